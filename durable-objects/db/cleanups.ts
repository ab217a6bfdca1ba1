/** Queries on `cleanups`: ended aggregations whose intermediates are still to be deleted. */
import { z } from 'zod';
import type { Sql } from './sql.ts';

/** Asks for a job's intermediates to be deleted from `now` on (once: a second ask is ignored). */
export function insertCleanup(sql: Sql, jobId: string, now: number): void {
  sql.run(
    `INSERT INTO cleanups (job_id, next_at) VALUES (?, ?) ON CONFLICT DO NOTHING`,
    jobId,
    now,
  );
}

/** When the next cleanup is due, or null. */
export function nextCleanupAt(sql: Sql): number | null {
  return (
    sql.row(z.object({ at: z.number().nullable() }), `SELECT min(next_at) AS at FROM cleanups`)
      ?.at ?? null
  );
}

/** Up to `limit` cleanups due at `now`, the longest due first. */
export function dueCleanups(
  sql: Sql,
  now: number,
  limit: number,
): { job_id: string; failures: number }[] {
  return sql.rows(
    z.object({ job_id: z.string(), failures: z.number().int() }),
    `SELECT job_id, failures FROM cleanups WHERE next_at <= ? ORDER BY next_at LIMIT ?`,
    now,
    limit,
  );
}

/** Moves a cleanup to `nextAt`, with the failures counted so far. */
export function rescheduleCleanup(
  sql: Sql,
  jobId: string,
  nextAt: number,
  failures?: number,
): void {
  if (failures === undefined)
    sql.run(`UPDATE cleanups SET next_at = ? WHERE job_id = ?`, nextAt, jobId);
  else
    sql.run(
      `UPDATE cleanups SET failures = ?, next_at = ? WHERE job_id = ?`,
      failures,
      nextAt,
      jobId,
    );
}

export function deleteCleanup(sql: Sql, jobId: string): void {
  sql.run(`DELETE FROM cleanups WHERE job_id = ?`, jobId);
}
