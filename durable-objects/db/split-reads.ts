/** Queries on `split_reads`: which worker last read each input split. */
import { z } from 'zod';
import type { Sql } from './sql.ts';

/** The worker that last read a split, or null. */
export function lastReader(sql: Sql, split: string): string | null {
  return (
    sql.row(
      z.object({ worker_id: z.string() }),
      `SELECT worker_id FROM split_reads WHERE split = ?`,
      split,
    )?.worker_id ?? null
  );
}

export function recordRead(sql: Sql, split: string, workerId: string, now: number): void {
  sql.run(
    `INSERT INTO split_reads (split, worker_id, read_at) VALUES (?, ?, ?)
     ON CONFLICT (split) DO UPDATE SET worker_id = excluded.worker_id, read_at = excluded.read_at`,
    split,
    workerId,
    now,
  );
}

/** Forgets all but the `keep` latest reads. */
export function forgetOldReads(sql: Sql, keep: number): void {
  sql.run(
    `DELETE FROM split_reads WHERE read_at <
       (SELECT read_at FROM split_reads ORDER BY read_at DESC LIMIT 1 OFFSET ?)`,
    keep,
  );
}
