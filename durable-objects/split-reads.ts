/**
 * Which agent last read each input split. A later job over the same data prefers that agent,
 * whose block cache may still hold the bytes (placement tries it first and never waits for it).
 */
import type { InputSplit } from '../protocol/index.ts';
import type { Sql } from './db/sql.ts';
import { AggregateTaskPart } from './aggregate-store.ts';
import { parseJsonColumn } from './db/json-column.ts';
import { splitIdentity } from './aggregate-plan.ts';
import { forgetOldReads, lastReader, recordRead } from './db/split-reads.ts';
import { succeededMaps } from './db/tasks.ts';

/** Reads remembered at most; the oldest go first (agents' caches forget them before that). */
export const MAX_SPLIT_READS = 100_000;

/** The worker that last read each split, or null. */
export function lastReaders(sql: Sql, storeId: string, splits: readonly InputSplit[]) {
  return splits.map((split) => {
    const identity = splitIdentity(storeId, split);
    if (identity === null) return null;
    return lastReader(sql, identity);
  });
}

/** Remembers who read the splits of a job's committed maps. */
export function recordSplitReads(sql: Sql, jobId: string, storeId: string, now: number): void {
  for (const map of succeededMaps(sql, jobId)) {
    const part = parseJsonColumn(AggregateTaskPart, map.spec, 'tasks.spec');
    const identity = part.step === 'map' ? splitIdentity(storeId, part.input) : null;
    if (identity === null) continue;
    recordRead(sql, identity, map.worker_id, now);
  }
  forgetOldReads(sql, MAX_SPLIT_READS);
}
