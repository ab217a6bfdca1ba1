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

/** When retention last counted finished jobs against the cap, or null (docs/storage.md). */
export function capCheckedAt(sql: Sql): number | null {
  const row = sql.row(
    z.object({ value: z.string() }),
    `SELECT value FROM meta WHERE key = 'retention_cap_checked_at'`,
  );
  return row ? Number(row.value) : null;
}

export function markCapChecked(sql: Sql, now: number): void {
  sql.run(
    `INSERT INTO meta (key, value) VALUES ('retention_cap_checked_at', ?)
     ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
    String(now),
  );
}
