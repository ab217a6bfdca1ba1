/** Task output: bounded per task, with a truncation marker, read by sequence number. */
import type { LogEntry, LogFrame } from '../protocol/index.ts';
import type { Sql } from './db/sql.ts';
import { insertLog, logBudget, logsAfter, setLogBudget } from './db/logs.ts';
import { iso } from './views.ts';
import { truncateUtf8, utf8Length } from './utf8.ts';

export interface StoredLogEntry extends LogEntry {
  jobId: string;
}

/**
 * Stores a log frame from the agent that holds the task's current attempt; returns what was
 * stored (null when the frame is not that agent's to send).
 */
export function appendLogs(
  sql: Sql,
  workerId: string,
  frame: LogFrame,
  limitBytes: number,
  now: number,
): StoredLogEntry[] | null {
  const fence = { taskId: frame.taskId, attempt: frame.attempt, workerId };
  const task = logBudget(sql, fence);
  if (!task) return null;
  if (task.log_truncated === 1) return [];
  let used = task.log_bytes;
  let truncated = false;
  const stored: StoredLogEntry[] = [];
  const insert = (stream: LogEntry['stream'], data: string) => {
    const seq = insertLog(sql, {
      task_id: frame.taskId,
      job_id: task.job_id,
      attempt: frame.attempt,
      stream,
      data,
      at: now,
    });
    if (seq !== null)
      stored.push({
        seq,
        taskId: frame.taskId,
        jobId: task.job_id,
        attempt: frame.attempt,
        stream,
        data,
        at: iso(now),
      });
  };
  for (const chunk of frame.chunks) {
    const bytes = utf8Length(chunk.data);
    if (used + bytes <= limitBytes) {
      insert(chunk.stream, chunk.data);
      used += bytes;
      continue;
    }
    const fit = truncateUtf8(chunk.data, limitBytes - used);
    if (fit.length > 0) insert(chunk.stream, fit);
    used += utf8Length(fit);
    insert(
      'system',
      `[tm] output truncated: this task reached its limit of ${limitBytes} bytes; later output is dropped\n`,
    );
    truncated = true;
    break;
  }
  setLogBudget(sql, fence, used, truncated);
  return stored;
}

export type LogScope = { taskId: string } | { jobId: string };

export function readLogs(sql: Sql, scope: LogScope, after: number, limit: number): LogEntry[] {
  const rows = logsAfter(sql, scope, after, limit);
  return rows.map((row) => ({
    seq: row.seq,
    taskId: row.task_id,
    attempt: row.attempt,
    stream: row.stream,
    data: row.data,
    at: iso(row.at),
  }));
}
