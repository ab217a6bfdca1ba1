/**
 * Retention's reads and writes of the `jobs` table: a job's own retention, the finished jobs past
 * theirs or past the cap, and when the next one comes due. A job being removed (it has a tombstone,
 * durable-objects/db/removed-jobs.ts) or whose intermediates are still being deleted (a `cleanups`
 * row) is never a candidate; nor is a job that has not ended.
 */
import { z } from 'zod';
import type { Sql } from './sql.ts';
import type { Candidate, ResultFolder } from '../retention-plan.ts';

const KEPT = `state IN ('succeeded','failed','cancelled') AND finished_at IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM removed_jobs r WHERE r.id = jobs.id)
  AND NOT EXISTS (SELECT 1 FROM cleanups c WHERE c.job_id = jobs.id)`;

const CandidateRow = z.object({
  id: z.string(),
  tenant_id: z.string().nullable(),
  finished_at: z.number(),
});
const At = z.object({ at: z.number().nullable() });

function candidates(sql: Sql, query: string, ...values: number[]): Candidate[] {
  return sql.rows(CandidateRow, query, ...values).map((row) => ({
    id: row.id,
    tenantId: row.tenant_id,
    finishedAt: row.finished_at,
  }));
}

function at(sql: Sql, query: string, ...values: number[]): number | null {
  return sql.row(At, query, ...values)?.at ?? null;
}

/** Stores the retention a job asked for (null: the cluster's); inside the transaction that inserts it. */
export function recordRetention(sql: Sql, jobId: string, retentionMs: number | null): void {
  if (retentionMs === null) return;
  sql.run(`UPDATE jobs SET retention_ms = ? WHERE id = ?`, retentionMs, jobId);
}

/** Up to `limit` finished jobs past the cluster's retention or their own, oldest first. */
export function expiredJobs(sql: Sql, now: number, clusterMs: number, limit: number): Candidate[] {
  return [
    ...candidates(
      sql,
      `SELECT id, tenant_id, finished_at FROM jobs WHERE ${KEPT} AND finished_at <= ?
       ORDER BY finished_at LIMIT ?`,
      now - clusterMs,
      limit,
    ),
    ...candidates(
      sql,
      `SELECT id, tenant_id, finished_at FROM jobs
       WHERE ${KEPT} AND retention_ms IS NOT NULL AND finished_at + retention_ms <= ?
       ORDER BY finished_at + retention_ms LIMIT ?`,
      now,
      limit,
    ),
  ];
}

/** The `limit` oldest finished jobs kept. */
export function oldestFinished(sql: Sql, limit: number): Candidate[] {
  return candidates(
    sql,
    `SELECT id, tenant_id, finished_at FROM jobs WHERE ${KEPT} ORDER BY finished_at LIMIT ?`,
    limit,
  );
}

/** Finished jobs kept: every ended job but those being removed. */
export function countFinished(sql: Sql): number {
  return (
    at(
      sql,
      `SELECT (SELECT count(*) FROM jobs WHERE finished_at IS NOT NULL)
            - (SELECT count(*) FROM removed_jobs WHERE pending = 1) AS at`,
    ) ?? 0
  );
}

/** When the next kept job comes past its retention (the cluster's or its own), or null. */
export function nextExpiryAt(sql: Sql, clusterMs: number): number | null {
  const byCluster = at(
    sql,
    `SELECT finished_at + ? AS at FROM jobs WHERE ${KEPT} ORDER BY finished_at LIMIT 1`,
    clusterMs,
  );
  const byOwn = at(
    sql,
    `SELECT finished_at + retention_ms AS at FROM jobs
     WHERE ${KEPT} AND retention_ms IS NOT NULL ORDER BY finished_at + retention_ms LIMIT 1`,
  );
  const both = [byCluster, byOwn].filter((value): value is number => value !== null);
  return both.length > 0 ? Math.min(...both) : null;
}

/** When the last job ended, or null. */
export function lastFinishedAt(sql: Sql): number | null {
  return at(sql, `SELECT max(finished_at) AS at FROM jobs WHERE finished_at IS NOT NULL`);
}

const AggregateOutput = z.object({ output: z.object({ store: z.string(), base: z.string() }) });

/** Where an aggregate job wrote its result, from its stored spec; null for other kinds. */
export function jobOutput(sql: Sql, jobId: string): ResultFolder | null {
  const row = sql.row(
    z.object({ kind: z.string(), spec: z.string() }),
    `SELECT kind, spec FROM jobs WHERE id = ?`,
    jobId,
  );
  if (row?.kind !== 'aggregate') return null;
  return AggregateOutput.parse(JSON.parse(row.spec)).output;
}
