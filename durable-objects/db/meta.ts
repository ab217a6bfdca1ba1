/** Queries on `meta`: the Scheduler's own settings that outlive a restart. */
import { z } from 'zod';
import type { Sql } from './sql.ts';

/** The worker the round-robin placed work on last, or null. */
export function lastPlacedWorker(sql: Sql): string | null {
  return (
    sql.row(z.object({ value: z.string() }), `SELECT value FROM meta WHERE key = 'rr_last_worker'`)
      ?.value ?? null
  );
}

export function setLastPlacedWorker(sql: Sql, workerId: string): void {
  sql.run(
    `INSERT INTO meta (key, value) VALUES ('rr_last_worker', ?)
     ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
    workerId,
  );
}
