/**
 * Attempts whose agent went away (its socket closed, its lease lapsed, it no longer held them):
 * the task runs again elsewhere at once, without counting as a failure, until it has lost more
 * agents than its job allows; then it fails, as it may be what kills them. Only an attempt that
 * had started counts: one still waiting on its agent cannot have been what killed it.
 */
import type { TaskRef } from '../protocol/index.ts';
import type { Sql } from './db/sql.ts';
import { findLostAttempt, loseAttempt, lostAttemptsOf, type LostAttempt } from './db/attempts.ts';
import type { Effects } from './effects.ts';
import { recordAttempt } from './task-attempts.ts';

export interface Loss {
  reason: string;
  /**
   * Whether it counts towards the job's maxLostAttempts (an operator's deregister does not); an
   * attempt that never started is never counted.
   */
  counted: boolean;
  now: number;
}

/** Every live attempt of a worker is lost; returns them, so its agent can be told to stop them. */
export function loseWorkerTasks(
  sql: Sql,
  effects: Effects,
  workerId: string,
  loss: Loss,
): TaskRef[] {
  const rows = lostAttemptsOf(sql, workerId);
  return loseAttempts(sql, effects, rows, loss);
}

/** Only the given live attempts of a worker are lost (those its agent no longer holds). */
export function loseTasks(
  sql: Sql,
  effects: Effects,
  workerId: string,
  refs: readonly TaskRef[],
  loss: Loss,
): TaskRef[] {
  const rows = refs.flatMap((ref) => findLostAttempt(sql, { ...ref, workerId }) ?? []);
  return loseAttempts(sql, effects, rows, loss);
}

export function loseAttempts(
  sql: Sql,
  effects: Effects,
  rows: readonly LostAttempt[],
  loss: Loss,
): TaskRef[] {
  const lost: TaskRef[] = [];
  for (const row of rows) {
    const counted = loss.counted && row.started_at !== null;
    const losses = row.losses + (counted ? 1 : 0);
    const failed = losses > row.max_lost;
    const error = failed
      ? `lost its agent ${losses} times (last: ${loss.reason}); not run again, as it may be ` +
        `what stops its agents (maxLostAttempts is ${row.max_lost})`
      : loss.reason;
    // Fenced by attempt and worker: a lost attempt that has already moved on changes nothing.
    const fence = { taskId: row.id, attempt: row.attempt, workerId: row.worker_id };
    if (!loseAttempt(sql, fence, { failed, losses, error, now: loss.now })) continue;
    recordAttempt(sql, row, { outcome: 'lost', error: lostError(loss.reason, row), now: loss.now });
    if (failed) effects.endedTasks.push({ id: row.id, jobId: row.job_id, state: 'failed' });
    lost.push({ taskId: row.id, attempt: row.attempt });
  }
  if (lost.length > 0) effects.dispatch = true;
  return lost;
}

/** The attempt's recorded error: an unstarted one says it was not counted. */
function lostError(reason: string, row: LostAttempt): string {
  return row.started_at === null ? `${reason} (before it started: not counted as a loss)` : reason;
}
