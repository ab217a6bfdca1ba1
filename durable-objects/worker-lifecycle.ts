/** Worker transitions that move tasks: losing an agent, draining, and retiring a worker. */
import type { Sql } from './db/sql.ts';
import type { Effects } from './effects.ts';
import { findWorker, markGone, unbindConnection } from './db/workers.ts';
import { failPinnedTasks } from './task-lifecycle.ts';
import { liveAttemptsOf } from './db/attempts.ts';
import { loseWorkerTasks } from './task-losses.ts';
import { recordTaskEnds } from './job-settlement.ts';

/**
 * The agent's connection `connId` is gone: its tasks run again elsewhere. False when that
 * connection no longer spoke for the worker (nothing changed).
 */
export function connectionLost(
  sql: Sql,
  effects: Effects,
  lost: { workerId: string; connId: string; reason: string; now: number },
): boolean {
  const { workerId, connId, reason, now } = lost;
  if (!unbindConnection(sql, workerId, connId)) return false;
  const ended = effects.endedTasks.length;
  loseWorkerTasks(sql, effects, workerId, { reason, counted: true, now });
  recordTaskEnds(sql, effects, now, ended);
  if (findWorker(sql, workerId)?.state === 'gone') retire(sql, effects, workerId, null, now);
  return true;
}

/**
 * Removes a worker for good: its live tasks are requeued (and its agent told to stop them), its
 * pinned queued tasks fail, and its agent is told to go.
 */
export function retire(
  sql: Sql,
  effects: Effects,
  workerId: string,
  connId: string | null,
  now: number,
): void {
  const ended = effects.endedTasks.length;
  const requeued = loseWorkerTasks(sql, effects, workerId, {
    reason: 'worker deregistered',
    counted: false,
    now,
  });
  markGone(sql, workerId);
  failPinnedTasks(sql, effects, workerId, now);
  recordTaskEnds(sql, effects, now, ended);
  if (!connId) return;
  if (requeued.length > 0) {
    effects.outbox.push({
      connId,
      frame: { type: 'cancel', tasks: requeued, reason: 'worker deregistered' },
    });
  }
  effects.outbox.push({ connId, frame: { type: 'bye', reason: 'deregistered' } });
  effects.closes.push({ connId, code: 1000, reason: 'deregistered' });
}

/** A draining worker with no live tasks left is retired. */
export function finishDrainIfIdle(sql: Sql, effects: Effects, workerId: string, now: number): void {
  const row = findWorker(sql, workerId);
  if (row?.state !== 'draining' || liveAttemptsOf(sql, workerId).length > 0) return;
  retire(sql, effects, workerId, row.conn_id, now);
}
