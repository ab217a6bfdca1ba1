/**
 * Places stream groups, each as a whole: every instance of every stage joined by stream edges
 * starts at once, on the workers that have room, or the group waits and says what for. A group
 * one of whose instances went back to the queue (its agent was lost, or its data connections
 * broke) runs again from the start, all of it: the guarantee of exactly-once output rests on
 * that (docs/dataflow.md).
 */
import type { Core } from './core.ts';
import { newEffects, tellAgentsToStop, type Effects } from './effects.ts';
import { assignTasks } from './task-lifecycle.ts';
import { recordAttempt } from './task-attempts.ts';
import { countTaskEnds, markJobsStarted } from './db/jobs.ts';
import {
  gangTasks,
  liveGangs,
  markPlaced,
  restartGang,
  setWaitingFor,
  type GangRow,
  type GangTask,
} from './db/dataflow-gangs.ts';
import { freeWorkers, send } from './dispatch-send.ts';
import { placeGang } from './gang-placement.ts';

const RESTART_REASON = 'its stream group runs again: an instance of it was lost';

/**
 * Restarts broken groups and places waiting ones; returns the effects to commit: the restarts'
 * (agents told to stop), and those of assignments no frame could carry.
 */
export function dispatchGangs(core: Core): Effects[] {
  const gangs = liveGangs(core.sql);
  if (gangs.length === 0) return [];
  const restarts = newEffects();
  const out = [restarts];
  const now = core.now();
  for (const gang of gangs) {
    const queued = gangTasks(core.sql, gang.job_id, gang.gang).filter(isQueued);
    if (queued.length === 0) continue;
    // A placed group with a task back in the queue runs again whole: all its tasks are queued.
    const waiting =
      gang.placed === 0
        ? queued
        : core.sql.transaction(() => restart(core, restarts, gang, now))
          ? gangTasks(core.sql, gang.job_id, gang.gang).filter(isQueued)
          : [];
    const refused = waiting.length > 0 ? place(core, gang, waiting, now) : null;
    if (refused) out.push(refused);
  }
  return out;
}

const isQueued = (task: GangTask) => task.state === 'queued';

/** Runs the group again from the start; false when another restart was first (its fence). */
function restart(core: Core, effects: Effects, gang: GangRow, now: number): boolean {
  const done = restartGang(core.sql, gang, RESTART_REASON);
  if (!done) return false;
  for (const row of done.stopped)
    recordAttempt(core.sql, row, { outcome: 'cancelled', error: RESTART_REASON, now });
  tellAgentsToStop(core.sql, effects, done.stopped, RESTART_REASON);
  if (done.undone > 0)
    countTaskEnds(core.sql, gang.job_id, { succeeded: -done.undone, failed: 0, cancelled: 0 });
  return true;
}

/** Places the group's queued tasks all at once, or records what it waits for. */
function place(core: Core, gang: GangRow, queued: GangTask[], now: number): Effects | null {
  const placement = placeGang(
    freeWorkers(core),
    queued.map((task) => task.id),
  );
  if (!placement.ok) {
    const waiting =
      `${queued.length} free slots at once for its stream group's instances; ` +
      `${placement.free} free now`;
    if (gang.waiting_for !== waiting) setWaitingFor(core.sql, gang.job_id, gang.gang, waiting);
    return null;
  }
  const assigned = core.sql.transaction(() => {
    const rows = assignTasks(core.sql, placement.assignments, now);
    markPlaced(core.sql, gang.job_id, gang.gang);
    markJobsStarted(core.sql, [gang.job_id], now);
    return rows;
  });
  return send(core, assigned, new Set());
}
