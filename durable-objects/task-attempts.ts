/**
 * The history of a task: one row per ended attempt, so a failure and a lost agent read apart.
 * The attempt that succeeded is not stored again: the task row already is its record, and
 * leaving it out keeps the completion path (the busiest one) at one write per task.
 */
import type { AttemptCounts, AttemptOutcome, AttemptView } from '../protocol/index.ts';
import type { Sql } from './db/sql.ts';
import { iso, isoOrNull } from './views.ts';
import {
  count,
  countTally,
  newTally,
  observe,
  TASK_ATTEMPTS_ENDED,
  TASK_RUN_SECONDS,
  type Tally,
} from './metric-tally.ts';
import type { JobRow, TaskRow } from './db/rows.ts';
import type { LiveAttempt } from './db/attempts.ts';
import {
  attemptsOfTask,
  insertAttempt,
  outcomeCounts,
  type AttemptRow,
} from './db/attempt-history.ts';

/** Stores an attempt's end that was not a success, and counts it (metric-tally.ts). */
export function recordAttempt(
  sql: Sql,
  live: LiveAttempt,
  end: { outcome: AttemptOutcome; error?: string | null; exitCode?: number | null; now: number },
): void {
  insertAttempt(sql, live, {
    outcome: end.outcome,
    error: end.error ?? null,
    exitCode: end.exitCode ?? null,
    now: end.now,
  });
  const tally = newTally();
  countAttemptEnd(tally, end.outcome, live.started_at, end.now);
  countTally(sql, tally);
}

/** Counts an attempt's end by outcome, and its run time when it had started. */
export function countAttemptEnd(
  tally: Tally,
  outcome: AttemptOutcome,
  startedAt: number | null,
  now: number,
): void {
  count(tally, TASK_ATTEMPTS_ENDED, { outcome });
  if (startedAt !== null) observe(tally, TASK_RUN_SECONDS, (now - startedAt) / 1000);
}

/** A task's ended attempts, and its current one once it has succeeded. */
export function attemptHistory(
  sql: Sql,
  task: Pick<
    TaskRow,
    | 'id'
    | 'state'
    | 'attempt'
    | 'worker_id'
    | 'exit_code'
    | 'assigned_at'
    | 'started_at'
    | 'finished_at'
  >,
): AttemptView[] {
  const ended = attemptsOfTask(sql, task.id).map(toAttemptView);
  if (task.state !== 'succeeded' || task.finished_at === null) return ended;
  return [
    ...ended,
    toAttemptView({
      attempt: task.attempt,
      worker_id: task.worker_id,
      outcome: 'succeeded',
      error: null,
      exit_code: task.exit_code,
      assigned_at: task.assigned_at,
      started_at: task.started_at,
      finished_at: task.finished_at,
    }),
  ];
}

function toAttemptView(row: AttemptRow): AttemptView {
  return {
    attempt: row.attempt,
    workerId: row.worker_id,
    outcome: row.outcome,
    error: row.error,
    exitCode: row.exit_code,
    assignedAt: isoOrNull(row.assigned_at),
    startedAt: isoOrNull(row.started_at),
    finishedAt: iso(row.finished_at),
  };
}

/**
 * How the ended attempts of a job's tasks ended, counted by outcome. Successes come from the
 * job's counter, which counts each accepted completion: a completion taken twice would show.
 */
export function attemptCounts(sql: Sql, job: JobRow): AttemptCounts {
  const counts: AttemptCounts = {
    succeeded: job.n_succeeded,
    failed: 0,
    timed_out: 0,
    lost: 0,
    cancelled: 0,
  };
  for (const { outcome, n } of outcomeCounts(sql, job.id))
    if (outcome !== 'succeeded') counts[outcome] = n;
  return counts;
}
