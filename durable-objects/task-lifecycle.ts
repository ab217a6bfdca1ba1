/**
 * Task state transitions in SQLite, batch-first. Every change by an agent is fenced by task id,
 * attempt and worker, so a late or duplicate report from an old attempt changes nothing.
 */
import type { CompleteFrame, FailFrame, ProgressFrame, TaskRef } from '../protocol/index.ts';
import type { Sql } from './db/sql.ts';
import { LIVE_TASK_STATES } from './db/rows.ts';
import { tellAgentsToStop, wakeAt, type Effects } from './effects.ts';
import { shouldRetry } from './job-outcome.ts';
import { retryDelayMs, TIMEOUT_GRACE_MS } from './job-policy.ts';
import { recordAttempt, type LiveAttempt } from './task-attempts.ts';

export interface AssignedTask {
  id: string;
  jobId: string;
  attempt: number;
  workerId: string;
  /** The task's own part of the spec, as stored. */
  spec: string | null;
  /** When the control plane stops waiting for this attempt; null: no timeout. */
  deadlineAt: number | null;
  /** The tenant whose job this is; null: the admin's. */
  tenantId: string | null;
}

/** Moves queued tasks to their workers; each assignment is a new attempt with its own deadline. */
export function assignTasks(
  sql: Sql,
  assignments: readonly { taskId: string; workerId: string }[],
  now: number,
): AssignedTask[] {
  const assigned: AssignedTask[] = [];
  for (const { taskId, workerId } of assignments) {
    const row = sql.first<{
      job_id: string;
      attempt: number;
      spec: string | null;
      deadline_at: number | null;
      tenant_id: string | null;
    }>(
      `UPDATE tasks SET state = 'assigned', worker_id = ?, attempt = attempt + 1, assigned_at = ?,
         started_at = NULL, log_bytes = 0, log_truncated = 0, not_before = NULL,
         deadline_at = ? + (SELECT j.task_timeout_ms FROM jobs j WHERE j.id = tasks.job_id)
       WHERE id = ? AND state = 'queued' RETURNING job_id, attempt, spec, deadline_at,
         (SELECT j.tenant_id FROM jobs j WHERE j.id = tasks.job_id) AS tenant_id`,
      workerId,
      now,
      now + TIMEOUT_GRACE_MS,
      taskId,
    );
    if (row)
      assigned.push({
        id: taskId,
        jobId: row.job_id,
        attempt: row.attempt,
        workerId,
        spec: row.spec,
        deadlineAt: row.deadline_at,
        tenantId: row.tenant_id,
      });
  }
  return assigned;
}

/** Stores how far running tasks are (fenced like every report); returns what it ignored. */
export function recordProgress(
  sql: Sql,
  workerId: string,
  items: ProgressFrame['tasks'],
): TaskRef[] {
  const ignored: TaskRef[] = [];
  for (const item of items) {
    const written = sql.run(
      `UPDATE tasks SET progress = ? WHERE id = ? AND attempt = ? AND worker_id = ? AND state IN ${LIVE_TASK_STATES}`,
      JSON.stringify(
        // Steps carry their attempt: a later attempt starts over, and old reports must not show.
        'steps' in item
          ? { attempt: item.attempt, steps: item.steps }
          : {
              rowsRead: item.rowsRead,
              bytesRead: item.bytesRead,
              bytesCached: item.bytesCached ?? 0,
            },
      ),
      item.taskId,
      item.attempt,
      workerId,
    );
    if (written === 0) ignored.push({ taskId: item.taskId, attempt: item.attempt });
  }
  return ignored;
}

/** Marks assigned attempts running; returns the reports it ignored. */
export function markStarted(
  sql: Sql,
  workerId: string,
  refs: readonly TaskRef[],
  now: number,
): TaskRef[] {
  const ignored: TaskRef[] = [];
  for (const ref of refs) {
    const written = sql.run(
      `UPDATE tasks SET state = 'running', started_at = ?
       WHERE id = ? AND attempt = ? AND worker_id = ? AND state = 'assigned'`,
      now,
      ref.taskId,
      ref.attempt,
      workerId,
    );
    if (written === 0) ignored.push(ref);
  }
  return ignored;
}

/** Commits completions of current attempts; returns the reports that were stale and ignored. */
export function completeTasks(
  sql: Sql,
  effects: Effects,
  workerId: string,
  items: CompleteFrame['tasks'],
  now: number,
): TaskRef[] {
  const ignored: TaskRef[] = [];
  for (const item of items) {
    const row = sql.first<{ job_id: string }>(
      `UPDATE tasks SET state = 'succeeded', exit_code = ?, result = ?, error = NULL, finished_at = ?
       WHERE id = ? AND attempt = ? AND worker_id = ? AND state IN ${LIVE_TASK_STATES} RETURNING job_id`,
      item.exitCode ?? null,
      item.result === undefined ? null : JSON.stringify(item.result),
      now,
      item.taskId,
      item.attempt,
      workerId,
    );
    if (row) effects.endedTasks.push({ id: item.taskId, jobId: row.job_id, state: 'succeeded' });
    else ignored.push({ taskId: item.taskId, attempt: item.attempt });
  }
  effects.dispatch ||= effects.endedTasks.length > 0;
  return ignored;
}

/**
 * Records failures of current attempts: back to the queue while retries last, else failed;
 * returns the reports that were stale and ignored.
 */
export function failTasks(
  sql: Sql,
  effects: Effects,
  workerId: string,
  items: FailFrame['tasks'],
  now: number,
): TaskRef[] {
  const ignored: TaskRef[] = [];
  for (const item of items) {
    const live = findLiveAttempt(sql, item, workerId);
    if (!live) {
      ignored.push({ taskId: item.taskId, attempt: item.attempt });
      continue;
    }
    failAttempt(sql, effects, live, {
      outcome: 'failed',
      error: item.error.message,
      exitCode: item.exitCode ?? null,
      nonRetryable: item.error.nonRetryable ?? false,
      now,
    });
  }
  return ignored;
}

/** A live attempt with what its job allows for retries. */
export interface FailingAttempt extends LiveAttempt {
  job_id: string;
  failures: number;
  retries: number;
  backoff_initial_ms: number;
  backoff_max_ms: number;
  task_timeout_ms: number | null;
}

const FAILING_ATTEMPT = `SELECT t.id, t.attempt, t.worker_id, t.assigned_at, t.started_at, t.job_id,
  t.failures, j.retries, j.backoff_initial_ms, j.backoff_max_ms, j.task_timeout_ms
  FROM tasks t JOIN jobs j ON j.id = t.job_id`;

function findLiveAttempt(sql: Sql, ref: TaskRef, workerId: string): FailingAttempt | null {
  return sql.first<FailingAttempt>(
    `${FAILING_ATTEMPT} WHERE t.id = ? AND t.attempt = ? AND t.worker_id = ? AND t.state IN ${LIVE_TASK_STATES}`,
    ref.taskId,
    ref.attempt,
    workerId,
  );
}

/** Live attempts that ran past their deadline. */
export function overdueAttempts(sql: Sql, now: number): FailingAttempt[] {
  return sql.all<FailingAttempt>(
    `${FAILING_ATTEMPT} WHERE t.state IN ${LIVE_TASK_STATES} AND t.deadline_at IS NOT NULL AND t.deadline_at <= ?`,
    now,
  );
}

/**
 * Ends a live attempt as a failure: the task waits out its backoff and goes again while retries
 * last, else it fails for good.
 */
export function failAttempt(
  sql: Sql,
  effects: Effects,
  live: FailingAttempt,
  end: {
    outcome: 'failed' | 'timed_out';
    error: string;
    exitCode: number | null;
    nonRetryable: boolean;
    now: number;
  },
): void {
  recordAttempt(sql, live, end);
  const retry = shouldRetry(live.failures, live.retries, end.nonRetryable);
  const notBefore = retry
    ? end.now +
      retryDelayMs(
        live.failures + 1,
        { initialMs: live.backoff_initial_ms, maxMs: live.backoff_max_ms },
        Math.random(),
      )
    : null;
  sql.run(
    `UPDATE tasks SET state = ?, failures = failures + 1, error = ?, exit_code = ?, not_before = ?,
       worker_id = CASE WHEN ? THEN NULL ELSE worker_id END, finished_at = ?
     WHERE id = ?`,
    retry ? 'queued' : 'failed',
    end.error,
    end.exitCode,
    notBefore,
    retry ? 1 : 0,
    retry ? null : end.now,
    live.id,
  );
  if (notBefore !== null) wakeAt(effects, notBefore);
  else effects.endedTasks.push({ id: live.id, jobId: live.job_id, state: 'failed' });
  effects.dispatch = true;
}

export function liveTasksOf(sql: Sql, workerId: string): TaskRef[] {
  return sql
    .all<{ id: string; attempt: number }>(
      `SELECT id, attempt FROM tasks WHERE worker_id = ? AND state IN ${LIVE_TASK_STATES}`,
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
  const rows = sql.all<LiveAttempt>(
    `UPDATE tasks SET state = 'cancelled', finished_at = ?, error = ?
     WHERE job_id = ? AND state IN ('queued','assigned','running')
     RETURNING id, attempt, worker_id, assigned_at, started_at`,
    now,
    reason,
    jobId,
  );
  for (const row of rows) {
    effects.endedTasks.push({ id: row.id, jobId, state: 'cancelled' });
    if (row.worker_id) recordAttempt(sql, row, { outcome: 'cancelled', error: reason, now });
  }
  tellAgentsToStop(sql, effects, rows, reason);
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
