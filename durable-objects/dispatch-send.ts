/**
 * What every dispatch round shares: the workers with room, and sending what was assigned to
 * them (failing, for good, what no frame could carry).
 */
import { MAX_FRAME_BYTES, type Assignment } from '../protocol/index.ts';
import type { Core } from './core.ts';
import { connectedReadyWorkers, findWorker } from './db/workers.ts';
import { effectiveSlots, executorsOf } from './views.ts';
import { mapsAhead, type PlacementWorker } from './placement.ts';
import { failTasks, type AssignedTask } from './task-lifecycle.ts';
import { workerUsage } from './db/queue.ts';
import { recordTaskEnds } from './job-settlement.ts';
import { specBuilder } from './assignment-spec.ts';
import { assignBatches, type OversizedAssignment } from './assign-batches.ts';
import { newEffects, type Effects } from './effects.ts';

export function freeWorkers(core: Core): PlacementWorker[] {
  const usage = workerUsage(core.sql);
  return connectedReadyWorkers(core.sql).map((row) => {
    const used = usage.get(row.id);
    const slots = effectiveSlots(row);
    const freeSlots = slots - (used?.cost ?? 0);
    return {
      id: row.id,
      freeSlots,
      freeInflight: core.config.maxInflight - (used?.n ?? 0),
      ahead: mapsAhead(slots, freeSlots),
      acceptsCommands: row.accepts_commands === 1,
      executors: executorsOf(row),
      streams: row.data_port !== null,
    };
  });
}

/** Sends the assignments; those held `ahead` start on their agent once a slot frees there. */
export function send(
  core: Core,
  assigned: AssignedTask[],
  ahead: ReadonlySet<string>,
): Effects | null {
  const build = specBuilder(core.sql);
  const byWorker = new Map<string, AssignedTask[]>();
  for (const task of assigned) {
    const list = byWorker.get(task.workerId) ?? [];
    list.push(task);
    byWorker.set(task.workerId, list);
  }
  const refused = new Map<string, OversizedAssignment[]>();
  for (const [workerId, held] of byWorker) {
    const worker = findWorker(core.sql, workerId);
    const connId = worker?.conn_id;
    if (!worker || !connId) continue;
    const tasks: Assignment[] = [];
    for (const task of held) {
      const spec = build(task);
      if (!spec) continue;
      const { id: taskId, jobId, attempt } = task;
      tasks.push({
        taskId,
        jobId,
        attempt,
        spec,
        tenant: task.tenantId,
        ...(ahead.has(taskId) ? { startBelow: effectiveSlots(worker) } : {}),
      });
    }
    const { batches, oversized } = assignBatches(tasks);
    for (const batch of batches) core.sockets.sendTo(connId, { type: 'assign', tasks: batch });
    if (oversized.length > 0) refused.set(workerId, oversized);
  }
  return refused.size > 0 ? failOversized(core, refused) : null;
}

/**
 * Fails, for good, assignments that no frame could carry (an agent would refuse them), rather
 * than sending them: the submit bound (MAX_SPEC_BYTES) keeps them rare; what the Scheduler adds
 * later (inline partials, store access) can still pass it.
 */
function failOversized(core: Core, refused: Map<string, OversizedAssignment[]>): Effects {
  const effects = newEffects();
  const now = core.now();
  core.sql.transaction(() => {
    for (const [workerId, oversized] of refused) {
      const items = oversized.map(({ task, bytes }) => ({
        taskId: task.taskId,
        attempt: task.attempt,
        error: {
          type: 'refused' as const,
          message:
            `the task's assignment is ${bytes} bytes of JSON; a frame to an agent carries at ` +
            `most ${MAX_FRAME_BYTES} bytes, so it was not sent`,
          nonRetryable: true,
        },
      }));
      failTasks(core.sql, effects, workerId, items, now);
    }
    recordTaskEnds(core.sql, effects, now);
  });
  return effects;
}
