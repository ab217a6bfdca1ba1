/**
 * Task state transitions in SQLite, batch-first. Every change by an agent is fenced by task id,
 * attempt and worker, so a late or duplicate report from an old attempt changes nothing.
 */
import type { CompleteFrame, FailFrame, ProgressFrame, TaskRef } from '../protocol/index.ts';
import type { Sql } from './sql.ts';
import { tellWorker, type Effects } from './effects.ts';
import { shouldRetry } from './job-outcome.ts';

const LIVE = `('assigned','running')`;

export interface AssignedTask {
  id: string;
  jobId: string;
  attempt: number;
  workerId: string;
  /** The task's own part of the spec, as stored. */
  spec: string | null;
}

/** Moves queued tasks to their workers; each assignment is a new attempt. */
export function assignTasks(
  sql: Sql,
  assignments: readonly { taskId: string; workerId: string }[],
  now: number,
): AssignedTask[] {
  const assigned: AssignedTask[] = [];
  for (const { taskId, workerId } of assignments) {
    const row = sql.first<{ job_id: string; attempt: number; spec: string | null }>(
      `UPDATE tasks SET state = 'assigned', worker_id = ?, attempt = attempt + 1, assigned_at = ?,
         started_at = NULL, log_bytes = 0, log_truncated = 0
       WHERE id = ? AND state = 'queued' RETURNING job_id, attempt, spec`,
      workerId,
      now,
      taskId,
    );
    if (row)
      assigned.push({
        id: taskId,
        jobId: row.job_id,
        attempt: row.attempt,
        workerId,
        spec: row.spec,
      });
  }
  return assigned;
}

/** Stores what running tasks have read so far (fenced like every report). */
export function recordProgress(sql: Sql, workerId: string, items: ProgressFrame['tasks']): void {
  for (const item of items) {
    sql.run(
      `UPDATE tasks SET progress = ? WHERE id = ? AND attempt = ? AND worker_id = ? AND state IN ${LIVE}`,
      JSON.stringify({ rowsRead: item.rowsRead, bytesRead: item.bytesRead }),
      item.taskId,
      item.attempt,
      workerId,
    );
  }
}

export function markStarted(
  sql: Sql,
  workerId: string,
  refs: readonly TaskRef[],
  now: number,
): void {
  for (const ref of refs) {
    sql.run(
      `UPDATE tasks SET state = 'running', started_at = ?
       WHERE id = ? AND attempt = ? AND worker_id = ? AND state = 'assigned'`,
      now,
      ref.taskId,
      ref.attempt,
      workerId,
    );
  }
}

/** Commits completions of current attempts; returns how many reports were stale and ignored. */
export function completeTasks(
  sql: Sql,
  effects: Effects,
  workerId: string,
  items: CompleteFrame['tasks'],
  now: number,
): number {
  let ignored = 0;
  for (const item of items) {
    const row = sql.first<{ job_id: string }>(
      `UPDATE tasks SET state = 'succeeded', exit_code = ?, result = ?, error = NULL, finished_at = ?
       WHERE id = ? AND attempt = ? AND worker_id = ? AND state IN ${LIVE} RETURNING job_id`,
      item.exitCode ?? null,
      item.result === undefined ? null : JSON.stringify(item.result),
      now,
      item.taskId,
      item.attempt,
      workerId,
    );
    if (row) effects.endedTasks.push({ id: item.taskId, jobId: row.job_id, state: 'succeeded' });
    else ignored++;
  }
  effects.dispatch ||= effects.endedTasks.length > 0;
  return ignored;
}

/** Records failures of current attempts: back to the queue while retries last, else failed. */
export function failTasks(
  sql: Sql,
  effects: Effects,
  workerId: string,
  items: FailFrame['tasks'],
  now: number,
): number {
  let ignored = 0;
  for (const item of items) {
    const current = sql.first<{ failures: number; retries: number; job_id: string }>(
      `SELECT t.failures, j.retries, t.job_id FROM tasks t JOIN jobs j ON j.id = t.job_id
       WHERE t.id = ? AND t.attempt = ? AND t.worker_id = ? AND t.state IN ${LIVE}`,
      item.taskId,
      item.attempt,
      workerId,
    );
    if (!current) {
      ignored++;
      continue;
    }
    const retry = shouldRetry(current.failures, current.retries, item.error.nonRetryable ?? false);
    sql.run(
      `UPDATE tasks SET state = ?, failures = failures + 1, error = ?, exit_code = ?,
         worker_id = CASE WHEN ? THEN NULL ELSE worker_id END, finished_at = ?
       WHERE id = ?`,
      retry ? 'queued' : 'failed',
      item.error.message,
      item.exitCode ?? null,
      retry ? 1 : 0,
      retry ? null : now,
      item.taskId,
    );
    if (!retry)
      effects.endedTasks.push({ id: item.taskId, jobId: current.job_id, state: 'failed' });
    effects.dispatch = true;
  }
  return ignored;
}

/** Puts a worker's live tasks back in the queue; the next assignment is a new attempt. */
export function requeueWorkerTasks(
  sql: Sql,
  effects: Effects,
  workerId: string,
  reason: string,
): TaskRef[] {
  const rows = sql.all<{ id: string; attempt: number }>(
    `UPDATE tasks SET state = 'queued', worker_id = NULL, error = ?
     WHERE worker_id = ? AND state IN ${LIVE} RETURNING id, attempt`,
    reason,
    workerId,
  );
  if (rows.length > 0) effects.dispatch = true;
  return rows.map((row) => ({ taskId: row.id, attempt: row.attempt }));
}

/** Requeues only the given live tasks of a worker (those its agent no longer holds). */
export function requeueTasks(
  sql: Sql,
  effects: Effects,
  workerId: string,
  refs: readonly TaskRef[],
  reason: string,
): void {
  for (const ref of refs) {
    const changed = sql.run(
      `UPDATE tasks SET state = 'queued', worker_id = NULL, error = ?
       WHERE id = ? AND attempt = ? AND worker_id = ? AND state IN ${LIVE}`,
      reason,
      ref.taskId,
      ref.attempt,
      workerId,
    );
    if (changed > 0) effects.dispatch = true;
  }
}

export function liveTasksOf(sql: Sql, workerId: string): TaskRef[] {
  return sql
    .all<{ id: string; attempt: number }>(
      `SELECT id, attempt FROM tasks WHERE worker_id = ? AND state IN ${LIVE}`,
      workerId,
    )
    .map((row) => ({ taskId: row.id, attempt: row.attempt }));
}

/**
 * Cancels every unfinished task of a job and tells the agents running some to stop them;
 * returns how many it cancelled (the caller counts them into the job).
 */
export function cancelJobTasks(
  sql: Sql,
  effects: Effects,
  jobId: string,
  now: number,
  reason = 'job cancelled',
): number {
  const rows = sql.all<{ id: string; attempt: number; worker_id: string | null }>(
    `UPDATE tasks SET state = 'cancelled', finished_at = ?, error = ?
     WHERE job_id = ? AND state IN ('queued','assigned','running') RETURNING id, attempt, worker_id`,
    now,
    reason,
    jobId,
  );
  const byWorker = new Map<string, TaskRef[]>();
  for (const row of rows) {
    effects.endedTasks.push({ id: row.id, jobId, state: 'cancelled' });
    if (!row.worker_id) continue;
    const list = byWorker.get(row.worker_id) ?? [];
    list.push({ taskId: row.id, attempt: row.attempt });
    byWorker.set(row.worker_id, list);
  }
  for (const [workerId, tasks] of byWorker)
    tellWorker(sql, effects, workerId, { type: 'cancel', tasks, reason });
  return rows.length;
}

/** Fails queued tasks pinned to a worker that is gone: they can never run. */
export function failPinnedTasks(sql: Sql, effects: Effects, workerId: string, now: number): void {
  const rows = sql.all<{ id: string; job_id: string }>(
    `UPDATE tasks SET state = 'failed', finished_at = ?, error = ?
     WHERE pinned_worker_id = ? AND state = 'queued' RETURNING id, job_id`,
    now,
    `worker ${workerId} was deregistered before this task could run`,
    workerId,
  );
  for (const row of rows)
    effects.endedTasks.push({ id: row.id, jobId: row.job_id, state: 'failed' });
}
