/**
 * Attempts whose agent went away (its socket closed, its lease lapsed, it no longer held them):
 * the task runs again elsewhere at once, without counting as a failure, until it has lost more
 * agents than its job allows; then it fails, as it may be what kills them.
 */
import type { TaskRef } from '../protocol/index.ts';
import type { Sql } from './sql.ts';
import { LIVE_TASK_STATES } from './rows.ts';
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
  /** Whether it counts towards the job's maxLostAttempts (an operator's deregister does not). */
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
  for (const row of rows) {
    recordAttempt(sql, row, { outcome: 'lost', error: loss.reason, now: loss.now });
    const losses = row.losses + (loss.counted ? 1 : 0);
    if (losses > row.max_lost) {
      sql.run(
        `UPDATE tasks SET state = 'failed', losses = ?, error = ?, finished_at = ? WHERE id = ?`,
        losses,
        `lost its agent ${losses} times (last: ${loss.reason}); not run again, as it may be ` +
          `what stops its agents (maxLostAttempts is ${row.max_lost})`,
        loss.now,
        row.id,
      );
      effects.endedTasks.push({ id: row.id, jobId: row.job_id, state: 'failed' });
    } else {
      sql.run(
        `UPDATE tasks SET state = 'queued', worker_id = NULL, losses = ?, error = ? WHERE id = ?`,
        losses,
        loss.reason,
        row.id,
      );
    }
  }
  if (rows.length > 0) effects.dispatch = true;
  return rows.map((row) => ({ taskId: row.id, attempt: row.attempt }));
}
