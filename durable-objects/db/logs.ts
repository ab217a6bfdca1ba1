/** Queries on `logs`, and the log budget each task keeps on its row. */
import { z } from 'zod';
import { LogStream } from '../../protocol/index.ts';
import type { AttemptFence } from './attempts.ts';
import type { Sql } from './sql.ts';

export const LogRow = z.object({
  seq: z.number().int(),
  task_id: z.string(),
  job_id: z.string(),
  attempt: z.number().int(),
  stream: LogStream,
  data: z.string(),
  at: z.number(),
});
export type LogRow = z.infer<typeof LogRow>;

const Budget = z.object({
  job_id: z.string(),
  log_bytes: z.number().int(),
  log_truncated: z.number().int(),
});

/**
 * The log budget of an attempt its worker still holds (live or ended, as late output of its own
 * is kept); null when the task's current attempt is not that one.
 */
export function logBudget(sql: Sql, fence: AttemptFence): z.infer<typeof Budget> | null {
  return sql.row(
    Budget,
    `SELECT job_id, log_bytes, log_truncated FROM tasks WHERE id = ? AND attempt = ? AND worker_id = ?`,
    fence.taskId,
    fence.attempt,
    fence.workerId,
  );
}

/** Stores what an attempt's output used of its budget; false when the fence did not hold. */
export function setLogBudget(
  sql: Sql,
  fence: AttemptFence,
  used: number,
  truncated: boolean,
): boolean {
  return (
    sql.run(
      `UPDATE tasks SET log_bytes = ?, log_truncated = ? WHERE id = ? AND attempt = ? AND worker_id = ?`,
      used,
      truncated ? 1 : 0,
      fence.taskId,
      fence.attempt,
      fence.workerId,
    ) > 0
  );
}

/** Stores one chunk of output; returns its sequence number. */
export function insertLog(sql: Sql, row: Omit<LogRow, 'seq'>): number | null {
  return (
    sql.row(
      z.object({ seq: z.number().int() }),
      `INSERT INTO logs (task_id, job_id, attempt, stream, data, at) VALUES (?, ?, ?, ?, ?, ?) RETURNING seq`,
      row.task_id,
      row.job_id,
      row.attempt,
      row.stream,
      row.data,
      row.at,
    )?.seq ?? null
  );
}

/** Output of a task or a job after sequence number `after`, in order. */
export function logsAfter(
  sql: Sql,
  scope: { taskId: string } | { jobId: string },
  after: number,
  limit: number,
): LogRow[] {
  return 'taskId' in scope
    ? sql.rows(
        LogRow,
        `SELECT * FROM logs WHERE task_id = ? AND seq > ? ORDER BY seq LIMIT ?`,
        scope.taskId,
        after,
        limit,
      )
    : sql.rows(
        LogRow,
        `SELECT * FROM logs WHERE job_id = ? AND seq > ? ORDER BY seq LIMIT ?`,
        scope.jobId,
        after,
        limit,
      );
}
