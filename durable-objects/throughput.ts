/** Tasks ended per time bucket over a window ending now: the dashboard's throughput chart. */
import { THROUGHPUT_BUCKETS, type Throughput, type ThroughputBucket } from '../protocol/index.ts';
import type { Core } from './core.ts';
import { taskEnds, type TaskEndRow } from './db/task-ends.ts';

/** The window's shape: `THROUGHPUT_BUCKETS` buckets, the last one holding `now`. */
export function throughputWindow(minutes: number, now: number): { from: number; bucketMs: number } {
  const bucketMs = (minutes * 60_000) / THROUGHPUT_BUCKETS;
  const from = (Math.floor(now / bucketMs) + 1 - THROUGHPUT_BUCKETS) * bucketMs;
  return { from, bucketMs };
}

/** Every bucket of the window, those without ends as zeros. */
export function fillBuckets(rows: readonly TaskEndRow[], from: number, bucketMs: number) {
  const counted = new Map(rows.map((row) => [row.bucket, row]));
  return Array.from({ length: THROUGHPUT_BUCKETS }, (_, i): ThroughputBucket => {
    const row = counted.get(i);
    return {
      start: new Date(from + i * bucketMs).toISOString(),
      succeeded: row?.succeeded ?? 0,
      failed: row?.failed ?? 0,
    };
  });
}

export function throughput(core: Core, owner: string | null, minutes: number): Throughput {
  const { from, bucketMs } = throughputWindow(minutes, core.now());
  return {
    windowSeconds: minutes * 60,
    bucketSeconds: bucketMs / 1000,
    buckets: fillBuckets(taskEnds(core.sql, owner, from, bucketMs), from, bucketMs),
  };
}
