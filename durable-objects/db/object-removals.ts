/**
 * Result folders of removed jobs still to delete from their object stores (`object_removals`):
 * written with the job's tombstone, deleted a batch at a time, and kept through store outages.
 */
import { z } from 'zod';
import type { Sql } from './sql.ts';

export const ObjectRemoval = z.object({
  job_id: z.string(),
  store_id: z.string(),
  prefix: z.string(),
  failures: z.number(),
  next_at: z.number(),
});
export type ObjectRemoval = z.infer<typeof ObjectRemoval>;

export function insertObjectRemoval(
  sql: Sql,
  jobId: string,
  storeId: string,
  prefix: string,
  now: number,
): void {
  sql.run(
    `INSERT INTO object_removals (job_id, store_id, prefix, next_at) VALUES (?, ?, ?, ?)
     ON CONFLICT DO NOTHING`,
    jobId,
    storeId,
    prefix,
    now,
  );
}

/** Up to `limit` folders due at `now`, each held until `holdUntil` so no other run takes it meanwhile. */
export function takeDueObjectRemovals(
  sql: Sql,
  now: number,
  limit: number,
  holdUntil: number,
): ObjectRemoval[] {
  const due = sql.rows(
    ObjectRemoval,
    `SELECT * FROM object_removals WHERE next_at <= ? ORDER BY next_at LIMIT ?`,
    now,
    limit,
  );
  for (const row of due)
    sql.run(`UPDATE object_removals SET next_at = ? WHERE job_id = ?`, holdUntil, row.job_id);
  return due;
}

/** Sets when the folder is tried next and how many times in a row its store has failed. */
export function rescheduleObjectRemoval(
  sql: Sql,
  jobId: string,
  failures: number,
  nextAt: number,
): void {
  sql.run(
    `UPDATE object_removals SET failures = ?, next_at = ? WHERE job_id = ?`,
    failures,
    nextAt,
    jobId,
  );
}

export function deleteObjectRemoval(sql: Sql, jobId: string): void {
  sql.run(`DELETE FROM object_removals WHERE job_id = ?`, jobId);
}

export function nextObjectRemovalAt(sql: Sql): number | null {
  return (
    sql.row(
      z.object({ at: z.number().nullable() }),
      `SELECT min(next_at) AS at FROM object_removals`,
    )?.at ?? null
  );
}
