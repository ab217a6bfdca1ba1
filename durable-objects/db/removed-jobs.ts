/**
 * Tombstones of removed jobs (`removed_jobs`): written in the transaction that removes a job from
 * every view, kept while its rows are deleted (`pending`), and then for one more retention period
 * (at most as many as the cap on finished jobs), so that reading the job says what became of it.
 */
import { z } from 'zod';
import type { Sql } from './sql.ts';
import type { Candidate, RemovalReason } from '../retention-plan.ts';

export const Tombstone = z.object({
  id: z.string(),
  tenant_id: z.string().nullable(),
  removed_at: z.number(),
  reason: z.enum(['retention', 'cap']),
  pending: z.number(),
});
export type Tombstone = z.infer<typeof Tombstone>;

/** Hides a job from every read: its rows go later, a batch at a time. */
export function insertTombstone(
  sql: Sql,
  job: Candidate,
  reason: RemovalReason,
  now: number,
): void {
  sql.run(
    `INSERT INTO removed_jobs (id, tenant_id, removed_at, reason, pending) VALUES (?, ?, ?, ?, 1)`,
    job.id,
    job.tenantId,
    now,
    reason,
  );
}

/** The tombstone of a job `owner` may see (null: the admin): another tenant's is not found. */
export function findTombstone(sql: Sql, id: string, owner: string | null): Tombstone | null {
  return sql.row(
    Tombstone,
    `SELECT * FROM removed_jobs WHERE id = ? AND (? IS NULL OR tenant_id = ?)`,
    id,
    owner,
    owner,
  );
}

/** Removed jobs whose rows are still being deleted, first removed first. */
export function pendingRemovals(sql: Sql, limit: number): string[] {
  return sql
    .rows(
      z.object({ id: z.string() }),
      `SELECT id FROM removed_jobs WHERE pending = 1 ORDER BY removed_at LIMIT ?`,
      limit,
    )
    .map((row) => row.id);
}

export function hasPendingRemovals(sql: Sql): boolean {
  return (
    sql.row(
      z.object({ found: z.number() }),
      `SELECT 1 AS found FROM removed_jobs WHERE pending = 1 LIMIT 1`,
    ) !== null
  );
}

export function markRemoved(sql: Sql, id: string): void {
  sql.run(`UPDATE removed_jobs SET pending = 0 WHERE id = ?`, id);
}

/** Drops tombstones older than `before`, and the oldest past `max`; never one still pending. */
export function dropTombstones(sql: Sql, before: number, max: number): void {
  sql.run(`DELETE FROM removed_jobs WHERE pending = 0 AND removed_at < ?`, before);
  sql.run(
    `DELETE FROM removed_jobs WHERE pending = 0 AND id IN (
       SELECT id FROM removed_jobs ORDER BY removed_at DESC LIMIT -1 OFFSET ?)`,
    max,
  );
}

/** The SQL condition that leaves out the rows of removed jobs, whose job id is `column`. */
export const notRemoved = (column: string) =>
  `NOT EXISTS (SELECT 1 FROM removed_jobs r WHERE r.id = ${column})`;

/** A `WHERE` clause (or '', as `whereGiven` gives) that also leaves out removed jobs' rows. */
export const whereVisible = (clause: string, column: string) =>
  `${clause ? `${clause} AND` : 'WHERE'} ${notRemoved(column)}`;
