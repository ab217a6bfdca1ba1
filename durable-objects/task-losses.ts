/**
 * Attempts whose agent went away (its socket closed, its lease lapsed, it no longer held them):
 * the task runs again elsewhere at once, without counting as a failure, until it has lost more
 * agents than its job allows; then it fails, as it may be what kills them. Only an attempt that
 * had started counts: one still waiting on its agent cannot have been what killed it.
 */
import type { TaskRef } from '../protocol/index.ts';
import type { Sql } from './db/sql.ts';
import { LIVE_TASK_STATES } from './db/rows.ts';
import type { Effects } from './effects.ts';
import { recordAttempt, type LiveAttempt } from './task-attempts.ts';

interface LostAttempt extends LiveAttempt {
  job_id: string;
  losses: number;
  max_lost: number;
}

const LOST_ATTEMPT = `SELECT t.id, t.attempt, t.worker_id, t.assigned_at, t.started_at, t.job_id,
  t.losses, j.max_lost FROM tasks t JOIN jobs j ON j.id = t.job_id`;

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
  const rows = sql.all<LostAttempt>(
    `${LOST_ATTEMPT} WHERE t.worker_id = ? AND t.state IN ${LIVE_TASK_STATES}`,
    workerId,
  );
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
  const rows = refs.flatMap(
    (ref) =>
      sql.first<LostAttempt>(
        `${LOST_ATTEMPT} WHERE t.id = ? AND t.attempt = ? AND t.worker_id = ? AND t.state IN ${LIVE_TASK_STATES}`,
        ref.taskId,
        ref.attempt,
        workerId,
      ) ?? [],
  );
  return loseAttempts(sql, effects, rows, loss);
}

/** Live attempts of jobs with a lease of their own, on connected workers silent for longer. */
export function silentAttempts(sql: Sql, now: number): (LostAttempt & { worker_id: string })[] {
  return sql.all<LostAttempt & { worker_id: string }>(
    `${LOST_ATTEMPT} JOIN workers w ON w.id = t.worker_id
     WHERE t.state IN ${LIVE_TASK_STATES} AND j.lease_ms IS NOT NULL AND w.conn_id IS NOT NULL
       AND w.last_heartbeat_at < ? - j.lease_ms`,
    now,
  );
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
    // Fenced by attempt and worker: a lost attempt that has already moved on changes nothing.
    const written = sql.run(
      `UPDATE tasks SET state = CASE WHEN ? THEN 'failed' ELSE 'queued' END,
         worker_id = CASE WHEN ? THEN worker_id ELSE NULL END, losses = ?, error = ?,
         finished_at = CASE WHEN ? THEN ? ELSE finished_at END
       WHERE id = ? AND attempt = ? AND worker_id = ? AND state IN ${LIVE_TASK_STATES}`,
      failed ? 1 : 0,
      failed ? 1 : 0,
      losses,
      failed
        ? `lost its agent ${losses} times (last: ${loss.reason}); not run again, as it may be ` +
            `what stops its agents (maxLostAttempts is ${row.max_lost})`
        : loss.reason,
      failed ? 1 : 0,
      loss.now,
      row.id,
      row.attempt,
      row.worker_id,
    );
    if (written === 0) continue;
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
