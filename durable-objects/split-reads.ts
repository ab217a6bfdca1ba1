/**
 * Which agent last read each input split. A later job over the same data prefers that agent,
 * whose block cache may still hold the bytes (placement tries it first and never waits for it).
 */
import type { InputSplit } from '../protocol/index.ts';
import type { Sql } from './db/sql.ts';
import type { AggregateTaskPart } from './aggregate-store.ts';
import { splitIdentity } from './aggregate-plan.ts';

/** Reads remembered at most; the oldest go first (agents' caches forget them before that). */
export const MAX_SPLIT_READS = 100_000;

/** The worker that last read each split, or null. */
export function lastReaders(sql: Sql, storeId: string, splits: readonly InputSplit[]) {
  return splits.map((split) => {
    const identity = splitIdentity(storeId, split);
    if (identity === null) return null;
    return (
      sql.first<{ worker_id: string }>(
        `SELECT worker_id FROM split_reads WHERE split = ?`,
        identity,
      )?.worker_id ?? null
    );
  });
}

/** Remembers who read the splits of a job's committed maps. */
export function recordSplitReads(sql: Sql, jobId: string, storeId: string, now: number): void {
  const maps = sql.all<{ spec: string; worker_id: string }>(
    `SELECT spec, worker_id FROM tasks
     WHERE job_id = ? AND kind = 'aggregate-map' AND state = 'succeeded' AND worker_id IS NOT NULL`,
    jobId,
  );
  for (const map of maps) {
    const part = JSON.parse(map.spec) as AggregateTaskPart;
    const identity = part.step === 'map' ? splitIdentity(storeId, part.input) : null;
    if (identity === null) continue;
    sql.run(
      `INSERT INTO split_reads (split, worker_id, read_at) VALUES (?, ?, ?)
       ON CONFLICT (split) DO UPDATE SET worker_id = excluded.worker_id, read_at = excluded.read_at`,
      identity,
      map.worker_id,
      now,
    );
  }
  sql.run(
    `DELETE FROM split_reads WHERE read_at <
       (SELECT read_at FROM split_reads ORDER BY read_at DESC LIMIT 1 OFFSET ?)`,
    MAX_SPLIT_READS,
  );
}
