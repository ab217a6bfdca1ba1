/**
 * Task ends over time, for the dashboard's throughput chart: succeeded tasks (their own rows hold
 * the succeeding attempt) and failed, timed-out or lost attempts (`task_attempts`), by bucket.
 */
import { z } from 'zod';
import type { Sql } from './sql.ts';

const EndRow = z.object({
  bucket: z.number().int(),
  succeeded: z.number().int(),
  failed: z.number().int(),
});
export type TaskEndRow = z.infer<typeof EndRow>;

/**
 * Ends at or after `from`, counted per bucket of `bucketMs` (bucket 0 starts at `from`), of the
 * tasks `owner` owns (null: all of them).
 */
export function taskEnds(
  sql: Sql,
  owner: string | null,
  from: number,
  bucketMs: number,
): TaskEndRow[] {
  return sql.rows(
    EndRow,
    `SELECT CAST((at - ?) / ? AS INTEGER) AS bucket, sum(ok) AS succeeded, sum(1 - ok) AS failed FROM (
       SELECT finished_at AS at, 1 AS ok FROM tasks
       WHERE finished_at >= ? AND state = 'succeeded' AND (? IS NULL OR tenant_id = ?)
       UNION ALL
       SELECT a.finished_at AS at, 0 AS ok FROM task_attempts a JOIN tasks t ON t.id = a.task_id
       WHERE a.finished_at >= ? AND a.outcome IN ('failed','timed_out','lost')
         AND (? IS NULL OR t.tenant_id = ?)
     ) GROUP BY bucket ORDER BY bucket`,
    from,
    bucketMs,
    from,
    owner,
    owner,
    from,
    owner,
    owner,
  );
}

/** Tasks of `owner` (null: all) waiting, and assigned or running. */
export function liveTaskCounts(
  sql: Sql,
  owner: string | null,
): { queued: number; running: number } {
  return (
    sql.row(
      z.object({ queued: z.number().int(), running: z.number().int() }),
      `SELECT coalesce(sum(state = 'queued'), 0) AS queued,
              coalesce(sum(state <> 'queued'), 0) AS running
       FROM tasks WHERE state IN ('queued','assigned','running') AND (? IS NULL OR tenant_id = ?)`,
      owner,
      owner,
    ) ?? { queued: 0, running: 0 }
  );
}
