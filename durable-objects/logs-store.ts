/** Task output in SQLite: bounded per task, with a truncation marker, read by sequence number. */
import type { LogEntry, LogFrame } from '../protocol/index.ts';
import type { Sql } from './db/sql.ts';
import { iso } from './views.ts';
import { truncateUtf8, utf8Length } from './utf8.ts';

export interface StoredLogEntry extends LogEntry {
  jobId: string;
}

interface LogRow {
  seq: number;
  task_id: string;
  job_id: string;
  attempt: number;
  stream: LogEntry['stream'];
  data: string;
  at: number;
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
  const task = sql.first<{
    job_id: string;
    worker_id: string | null;
    attempt: number;
    log_bytes: number;
    log_truncated: number;
  }>(
    `SELECT job_id, worker_id, attempt, log_bytes, log_truncated FROM tasks WHERE id = ?`,
    frame.taskId,
  );
  if (!task || task.worker_id !== workerId || task.attempt !== frame.attempt) return null;
  if (task.log_truncated === 1) return [];
  let used = task.log_bytes;
  let truncated = false;
  const stored: StoredLogEntry[] = [];
  const insert = (stream: LogEntry['stream'], data: string) => {
    const row = sql.first<{ seq: number }>(
      `INSERT INTO logs (task_id, job_id, attempt, stream, data, at) VALUES (?, ?, ?, ?, ?, ?) RETURNING seq`,
      frame.taskId,
      task.job_id,
      frame.attempt,
      stream,
      data,
      now,
    );
    if (row)
      stored.push({
        seq: row.seq,
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
  sql.run(
    `UPDATE tasks SET log_bytes = ?, log_truncated = ? WHERE id = ?`,
    used,
    truncated ? 1 : 0,
    frame.taskId,
  );
  return stored;
}

export type LogScope = { taskId: string } | { jobId: string };

export function readLogs(sql: Sql, scope: LogScope, after: number, limit: number): LogEntry[] {
  const rows =
    'taskId' in scope
      ? sql.all<LogRow>(
          `SELECT * FROM logs WHERE task_id = ? AND seq > ? ORDER BY seq LIMIT ?`,
          scope.taskId,
          after,
          limit,
        )
      : sql.all<LogRow>(
          `SELECT * FROM logs WHERE job_id = ? AND seq > ? ORDER BY seq LIMIT ?`,
          scope.jobId,
          after,
          limit,
        );
  return rows.map((row) => ({
    seq: row.seq,
    taskId: row.task_id,
    attempt: row.attempt,
    stream: row.stream,
    data: row.data,
    at: iso(row.at),
  }));
}
