/**
 * Launches the job of a dataflow stage that runs one (an aggregate stage), after the transaction
 * that started the stage has committed: planning an aggregation lists the store, which no
 * transaction may wait on. The job is the dataflow's tenant's, linked to the stage in the
 * transaction that stores it; a launch that fails fails the stage with the reason. A restart
 * launches what a crash left unlaunched (unlaunchedHolds).
 */
import { isEndState, type AggregateJobRequest, type Stage } from '../protocol/index.ts';
import { commit, type Core } from './core.ts';
import { newEffects } from './effects.ts';
import { findJob } from './db/jobs.ts';
import type { JobRow } from './db/rows.ts';
import { hasStageJob, holdWaiting, type StageHold } from './db/dataflow-stage-jobs.ts';
import { dataflowOf } from './dataflow-cache.ts';
import { draftAggregate } from './aggregate-submit.ts';
import { launchJob } from './job-ops.ts';
import { failStageHold } from './job-settlement.ts';
import { timeOrderedId } from './ids.ts';

/** Stages being launched now: a hold is launched once, by the commit or by a restart's sweep. */
const launching = new Set<string>();

export function launchStageJobs(core: Core, holds: readonly StageHold[]): void {
  for (const hold of holds) void launchStageJob(core, hold);
}

async function launchStageJob(core: Core, hold: StageHold): Promise<void> {
  const key = `${hold.job_id}/${hold.stage}`;
  if (launching.has(key)) return;
  launching.add(key);
  try {
    const parent = findJob(core.sql, hold.job_id);
    if (!parent || isEndState(parent.state) || hasStageJob(core.sql, hold)) return;
    const stage = dataflowOf(parent.id, parent.spec).spec.stages[hold.stage];
    if (stage?.kind !== 'aggregate') return;
    const id = timeOrderedId(core.now());
    const { draft, error } = await draftAggregate(core, id, stageJobRequest(parent, stage));
    // The dataflow may have been cancelled while the store was listed.
    if (!holdWaiting(core.sql, hold)) return;
    await launchJob(core, { ...draft, parent: hold }, error, 0, parent.tenant_id);
  } catch (error) {
    const effects = newEffects();
    const why = error instanceof Error ? error.message : String(error);
    core.sql.transaction(() =>
      failStageHold(
        core.sql,
        effects,
        hold,
        `its aggregate job could not start: ${why}`,
        core.now(),
      ),
    );
    commit(core, effects);
  } finally {
    launching.delete(key);
  }
}

/** The aggregate job a stage runs: the stage's own fields, named after the dataflow and stage. */
function stageJobRequest(
  parent: JobRow,
  stage: Extract<Stage, { kind: 'aggregate' }>,
): AggregateJobRequest {
  const {
    kind: _kind,
    name,
    parallelism: _parallelism,
    dependsOn: _dependsOn,
    continueOnFailure: _continue,
    streamFrom: _streamFrom,
    key: _key,
    ...fields
  } = stage;
  return {
    kind: 'aggregate',
    name: `${parent.name ?? parent.id}/${name}`.slice(0, 200),
    ...fields,
  };
}
