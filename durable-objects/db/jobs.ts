/** Queries on `jobs`: store, read, list, count task ends into, end. */
import { z } from 'zod';
import type { JobState } from '../../protocol/index.ts';
import type { JobDraft } from '../job-plan.ts';
import { JobRow } from './rows.ts';
import { whereGiven, type Sql } from './sql.ts';
import { notRemoved, whereVisible } from './removed-jobs.ts';

/** Stores a job, without its tasks (db/tasks.ts adds them); `tenantId` owns it (null: the admin). */
export function insertJob(sql: Sql, job: JobDraft, now: number, tenantId: string | null): void {
  const { policy } = job;
  sql.run(
    `INSERT INTO jobs (id, name, kind, spec, state, retries, backoff_initial_ms, backoff_max_ms,
       max_lost, lease_ms, task_timeout_ms, deadline_at, tasks_total, phase, created_at, tenant_id)
     VALUES (?, ?, ?, ?, 'queued', ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?)`,
    job.id,
    job.name,
    job.kind,
    JSON.stringify(job.spec),
    policy.retries,
    policy.backoffInitialMs,
    policy.backoffMaxMs,
    policy.maxLost,
    policy.leaseMs,
    policy.taskTimeoutMs,
    policy.jobTimeoutMs === null ? null : now + policy.jobTimeoutMs,
    job.phase,
    now,
    tenantId,
  );
}

export function findJob(sql: Sql, id: string): JobRow | null {
  return sql.row(JobRow, `SELECT * FROM jobs WHERE id = ?`, id);
}

/**
 * A job as `owner` may see it: a tenant sees only its own jobs (null owner: the admin, who sees
 * every job). Another tenant's job is "not found", never "forbidden", so ids leak nothing; a
 * job being removed by retention is gone already.
 */
export function findOwnedJob(sql: Sql, id: string, owner: string | null): JobRow | null {
  return sql.row(
    JobRow,
    `SELECT * FROM jobs WHERE id = ? AND (? IS NULL OR tenant_id = ?) AND ${notRemoved('jobs.id')}`,
    id,
    owner,
    owner,
  );
}

/** What a job list keeps: each filter given narrows it; times are creation times in ms. */
export interface JobFilter {
  state?: JobState | undefined;
  kind?: string | undefined;
  /** The owning tenant (the admin's filter; a tenant's own `owner` still applies). */
  tenant?: string | undefined;
  /** Created at or after. */
  since?: number | undefined;
  /** Created before. */
  until?: number | undefined;
}

/**
 * Up to `limit` jobs `owner` may see (null: the admin, all of them) that pass `filter`, created
 * before `before` (a job's creation time and id; null: from the newest), newest first: keyed on
 * (created_at, id), so that pages never shift.
 */
export function jobRowsBefore(
  sql: Sql,
  owner: string | null,
  filter: JobFilter,
  before: readonly [number, string] | null,
  limit: number,
): JobRow[] {
  const { clause, values } = whereGiven({
    'state = ?': filter.state,
    'kind = ?': filter.kind,
    'tenant_id = ?': owner,
    'jobs.tenant_id = ?': filter.tenant,
    'created_at >= ?': filter.since,
    'created_at < ?': filter.until,
  });
  const keyed = before ? `${clause ? `${clause} AND` : 'WHERE'} (created_at, id) < (?, ?)` : clause;
  return sql.rows(
    JobRow,
    `SELECT * FROM jobs ${whereVisible(keyed, 'jobs.id')} ORDER BY created_at DESC, id DESC LIMIT ?`,
    ...values,
    ...(before ?? []),
    limit,
  );
}

/** Jobs still going whose own deadline has passed. */
export function overdueJobs(
  sql: Sql,
  now: number,
): { id: string; created_at: number; deadline_at: number }[] {
  return sql.rows(
    z.object({ id: z.string(), created_at: z.number(), deadline_at: z.number() }),
    `SELECT id, created_at, deadline_at FROM jobs
     WHERE state IN ('queued','running') AND deadline_at IS NOT NULL AND deadline_at <= ?`,
    now,
  );
}

/** The earliest deadline of a job still going, or null. */
export function nextJobDeadline(sql: Sql): number | null {
  return (
    sql.row(
      z.object({ at: z.number().nullable() }),
      `SELECT min(deadline_at) AS at FROM jobs
       WHERE state IN ('queued','running') AND deadline_at IS NOT NULL`,
    )?.at ?? null
  );
}

export function markJobsStarted(sql: Sql, jobIds: Iterable<string>, now: number): void {
  for (const id of jobIds) {
    sql.run(
      `UPDATE jobs SET state = 'running', started_at = ? WHERE id = ? AND state = 'queued'`,
      now,
      id,
    );
  }
}

export function requestCancel(sql: Sql, id: string): void {
  sql.run(`UPDATE jobs SET cancel_requested = 1 WHERE id = ?`, id);
}

export function setPhase(sql: Sql, id: string, phase: string): void {
  sql.run(`UPDATE jobs SET phase = ? WHERE id = ?`, phase, id);
}

/** Adds ended tasks to a job's counters. */
export function countTaskEnds(
  sql: Sql,
  id: string,
  ends: { succeeded: number; failed: number; cancelled: number },
): void {
  sql.run(
    `UPDATE jobs SET n_succeeded = n_succeeded + ?, n_failed = n_failed + ?, n_cancelled = n_cancelled + ?
     WHERE id = ?`,
    ends.succeeded,
    ends.failed,
    ends.cancelled,
    id,
  );
}

/** Ends a job in `state`, with `error` (null when it did not fail). */
export function endJob(
  sql: Sql,
  id: string,
  state: JobState,
  error: string | null,
  now: number,
): void {
  sql.run(
    `UPDATE jobs SET state = ?, finished_at = ?, error = ? WHERE id = ?`,
    state,
    now,
    error,
    id,
  );
}

/** Replaces the error of a job that has failed. */
export function setFailedJobError(sql: Sql, id: string, error: string): void {
  sql.run(`UPDATE jobs SET error = ? WHERE id = ? AND state = 'failed'`, error, id);
}

/** The spec a job was stored with, as JSON text; '{}' for a job that is not there. */
export function jobSpec(sql: Sql, id: string): string {
  return (
    sql.row(z.object({ spec: z.string() }), `SELECT spec FROM jobs WHERE id = ?`, id)?.spec ?? '{}'
  );
}

/** A job's kind and stored spec (JSON text), or null for a job that is not there. */
export function jobKindAndSpec(sql: Sql, id: string): { kind: string; spec: string } | null {
  return sql.row(
    z.object({ kind: z.string(), spec: z.string() }),
    `SELECT kind, spec FROM jobs WHERE id = ?`,
    id,
  );
}

/** Unfinished aggregations that read from or write to an object store. */
export function jobsUsingStore(sql: Sql, storeId: string): string[] {
  return sql
    .rows(
      z.object({ id: z.string() }),
      `SELECT id FROM jobs WHERE kind = 'aggregate' AND state IN ('queued','running')
         AND (json_extract(spec, '$.source.store') = ? OR json_extract(spec, '$.output.store') = ?)`,
      storeId,
      storeId,
    )
    .map((row) => row.id);
}

/** The shortest lease of its own among the jobs, or null when none has one. */
export function shortestLease(sql: Sql, jobIds: readonly string[]): number | null {
  return (
    sql.row(
      z.object({ ms: z.number().nullable() }),
      `SELECT min(lease_ms) AS ms FROM jobs WHERE id IN (SELECT value FROM json_each(?))`,
      JSON.stringify(jobIds),
    )?.ms ?? null
  );
}
