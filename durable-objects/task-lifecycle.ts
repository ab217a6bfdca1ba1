/**
 * Task state transitions, batch-first. Every change by an agent is fenced by task id, attempt and
 * worker inside its UPDATE (db/attempts.ts), so a late or duplicate report from an old attempt
 * changes nothing.
 */
import type { FailFrame, ProgressFrame, TaskRef } from '../protocol/index.ts';
import type { Sql } from './db/sql.ts';
import * as attempts from './db/attempts.ts';
import type { FailingAttempt } from './db/attempts.ts';
import { tellAgentsToStop, wakeAt, type Effects } from './effects.ts';
import { shouldRetry } from './job-outcome.ts';
import { retryDelayMs, TIMEOUT_GRACE_MS } from './job-policy.ts';
import { countAttemptEnd, recordAttempt } from './task-attempts.ts';
import {
  count,
  countTally,
  newTally,
  observe,
  TASK_ATTEMPTS_STARTED,
  TASK_QUEUE_SECONDS,
} from './metric-tally.ts';
import { loseTasks } from './task-losses.ts';
import { chargeJobResults } from './db/task-results.ts';
import type { StoredReport } from './result-budget.ts';

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
    const row = attempts.assignTask(sql, taskId, workerId, now, TIMEOUT_GRACE_MS);
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
    const fence = { taskId: item.taskId, attempt: item.attempt, workerId };
    const progress = JSON.stringify(
      // Steps carry their attempt: a later attempt starts over, and old reports must not show.
      'steps' in item
        ? { attempt: item.attempt, steps: item.steps }
        : {
            rowsRead: item.rowsRead,
            bytesRead: item.bytesRead,
            bytesCached: item.bytesCached ?? 0,
          },
    );
    if (!attempts.setProgress(sql, fence, progress))
      ignored.push({ taskId: item.taskId, attempt: item.attempt });
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
  const tally = newTally();
  for (const ref of refs) {
    const started = attempts.markStarted(sql, { ...ref, workerId }, now);
    if (!started) {
      ignored.push(ref);
      continue;
    }
    count(tally, TASK_ATTEMPTS_STARTED);
    // Submit to start is the task's first attempt's wait; a retry's would count its earlier runs.
    if (started.attempt === 1)
      observe(tally, TASK_QUEUE_SECONDS, (now - started.created_at) / 1000);
  }
  countTally(sql, tally);
  return ignored;
}

/**
 * Commits completions of current attempts, their results stored as priced (result-budget.ts);
 * returns the reports that were stale and ignored.
 */
export function completeTasks(
  sql: Sql,
  effects: Effects,
  workerId: string,
  items: readonly StoredReport[],
  now: number,
): TaskRef[] {
  const ignored: TaskRef[] = [];
  const tally = newTally();
  for (const item of items) {
    const completed = attempts.completeAttempt(
      sql,
      { taskId: item.taskId, attempt: item.attempt, workerId },
      {
        exitCode: item.exitCode ?? null,
        result: item.stored.json,
        resultIsPayload: item.stored.isPayload,
        now,
      },
    );
    if (completed) {
      const jobId = completed.job_id;
      chargeJobResults(sql, jobId, item.stored.bytes);
      effects.endedTasks.push({ id: item.taskId, jobId, state: 'succeeded' });
      countAttemptEnd(tally, 'succeeded', completed.started_at, now);
    } else ignored.push({ taskId: item.taskId, attempt: item.attempt });
  }
  countTally(sql, tally);
  effects.dispatch ||= effects.endedTasks.length > 0;
  return ignored;
}

/**
 * Records failures of current attempts: back to the queue while retries last, else failed;
 * returns the reports that were stale and ignored. A stream task whose data connection to a peer
 * broke lost its peer, not its own run: that counts as a loss (task-losses.ts), as the peer's
 * agent's would.
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
    if (item.error.type === 'peer') {
      const loss = { reason: item.error.message, counted: true, now };
      const ref = { taskId: item.taskId, attempt: item.attempt };
      if (loseTasks(sql, effects, workerId, [ref], loss).length === 0) ignored.push(ref);
      continue;
    }
    const live = attempts.findFailingAttempt(sql, {
      taskId: item.taskId,
      attempt: item.attempt,
      workerId,
    });
    const failed =
      live !== null &&
      failAttempt(sql, effects, live, {
        outcome: 'failed',
        error: item.error.message,
        exitCode: item.exitCode ?? null,
        nonRetryable: item.error.nonRetryable ?? false,
        now,
      });
    if (!failed) ignored.push({ taskId: item.taskId, attempt: item.attempt });
  }
  return ignored;
}

/**
 * Ends a live attempt as a failure: the task waits out its backoff and goes again while retries
 * last, else it fails for good. False when the attempt had moved on (its fence did not hold).
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
): boolean {
  const retry = shouldRetry(live.failures, live.retries, end.nonRetryable);
  const notBefore = retry
    ? end.now +
      retryDelayMs(
        live.failures + 1,
        { initialMs: live.backoff_initial_ms, maxMs: live.backoff_max_ms },
        Math.random(),
      )
    : null;
  const fence = { taskId: live.id, attempt: live.attempt, workerId: live.worker_id };
  if (!attempts.failAttempt(sql, fence, { ...end, notBefore })) return false;
  recordAttempt(sql, live, end);
  if (notBefore !== null) wakeAt(effects, notBefore);
  else effects.endedTasks.push({ id: live.id, jobId: live.job_id, state: 'failed' });
  effects.dispatch = true;
  return true;
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
  const rows = attempts.cancelTasksOfJob(sql, jobId, reason, now);
  for (const row of rows) {
    effects.endedTasks.push({ id: row.id, jobId, state: 'cancelled' });
    if (row.worker_id) recordAttempt(sql, row, { outcome: 'cancelled', error: reason, now });
  }
  tellAgentsToStop(sql, effects, rows, reason);
  return rows.length;
}

/** Fails queued tasks pinned to a worker that is gone: they can never run. */
export function failPinnedTasks(sql: Sql, effects: Effects, workerId: string, now: number): void {
  const error = `worker ${workerId} was deregistered before this task could run`;
  const rows = attempts.failPinnedTasks(sql, workerId, error, now);
  for (const row of rows)
    effects.endedTasks.push({ id: row.id, jobId: row.job_id, state: 'failed' });
}
