/**
 * Barriers of stream tasks: an instance that reaches one waits until every instance of its stage
 * has reached it in the same run of its group; then each is released. Only these small marks
 * pass through the Scheduler, never records.
 */
import type { BarrierFrame } from '../protocol/index.ts';
import type { Core } from './core.ts';
import { commit } from './core.ts';
import { newEffects, tellHolders } from './effects.ts';
import { parseJsonColumn } from './db/json-column.ts';
import { findGang, findStreamAttempt, recordArrival, stageAttempts } from './db/dataflow-gangs.ts';
import { StageTaskPart } from './dataflow-spec.ts';

/** Records the arrival and releases the stage when it is complete; false: not a live stream task. */
export function reachBarrier(core: Core, workerId: string, frame: BarrierFrame): boolean {
  const effects = newEffects();
  const known = core.sql.transaction(() => {
    const task = findStreamAttempt(core.sql, { ...frame, workerId });
    const gang = task ? findGang(core.sql, task.job_id, task.gang) : null;
    if (!task || !gang) return false;
    const { instance } = parseJsonColumn(StageTaskPart, task.spec, 'tasks.spec');
    const arrived = recordArrival(core.sql, {
      jobId: task.job_id,
      gang: task.gang,
      epoch: gang.epoch,
      stage: task.stage,
      name: frame.name,
      instance,
    });
    const instances = stageAttempts(core.sql, task.job_id, task.stage);
    if (arrived < instances.length) return true;
    const live = instances.filter((row) => row.state === 'assigned' || row.state === 'running');
    tellHolders(core.sql, effects, live, (tasks) => ({ type: 'release', tasks, name: frame.name }));
    return true;
  });
  commit(core, effects);
  return known;
}
