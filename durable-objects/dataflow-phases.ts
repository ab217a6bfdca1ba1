/**
 * Moves a dataflow job along inside the transaction that ends its tasks: stages whose tasks have
 * all ended end, stages whose upstreams have ended start (their tasks are created), and a stage
 * that fails for good cancels the rest. The rules are in dataflow-plan.ts.
 */
import { stageInstances, type JobState } from '../protocol/index.ts';
import type { Sql } from './db/sql.ts';
import type { Effects } from './effects.ts';
import type { JobRow } from './db/rows.ts';
import { dataflowOf, type ParsedDataflow } from './dataflow-cache.ts';
import { countTaskEnds, findJob } from './db/jobs.ts';
import { firstFailure, insertTasks } from './db/tasks.ts';
import {
  insertStages,
  moveStage,
  stageRows,
  stageStates,
  runningTallies,
} from './db/dataflow-stages.ts';
import { cancelJobTasks } from './task-lifecycle.ts';
import { stepDataflow, type StageMove } from './dataflow-plan.ts';
import { insertGang } from './db/dataflow-gangs.ts';
import { GANG_HOLD } from './gang-placement.ts';
import { STAGE_JOB_HOLD } from './db/dataflow-stage-jobs.ts';
import type { PlannedTask } from './job-plan.ts';
import {
  type DataflowJobSpec,
  inputsRefusal,
  stageInputs,
  type StageTaskPart,
} from './dataflow-spec.ts';

export interface DataflowEnd {
  state: JobState;
  error: string | null;
}

/** Rounds of a step: a failure's cancels end stages, which a second round then sees. */
const MAX_ROUNDS = 4;

/** Advances the job; returns how it ended once every stage has, else null. */
export function advanceDataflow(
  sql: Sql,
  effects: Effects,
  job: JobRow,
  now: number,
): DataflowEnd | null {
  const flow = dataflowOf(job.id, job.spec);
  const { spec, graph } = flow;
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const step = stepDataflow(
      graph,
      stageStates(sql, job.id),
      runningTallies(sql, job.id),
      job.cancel_requested === 1,
    );
    for (const move of step.moves) recordMove(sql, job.id, move, now);
    const refused = step.start.filter((s) => !startStage(sql, effects, job.id, flow, s, now));
    if (step.cancelRest) cancelRest(sql, effects, job.id, now);
    else if (refused.length === 0 && step.outcome)
      return {
        state: step.outcome,
        error: step.outcome === 'failed' ? jobError(sql, job.id, spec) : null,
      };
    else if (refused.length === 0) return null;
  }
  return null;
}

/** Adds a new job's stages, all waiting, and starts those that wait on nothing. */
export function startDataflow(
  sql: Sql,
  effects: Effects,
  jobId: string,
  stages: number,
  now: number,
): void {
  insertStages(sql, jobId, stages);
  const job = findJob(sql, jobId);
  if (job) advanceDataflow(sql, effects, job, now);
}

function recordMove(sql: Sql, jobId: string, move: StageMove, now: number): void {
  const error =
    move.to === 'failed' || (move.to === 'cancelled' && !move.reason)
      ? firstFailure(sql, jobId, move.stage)
      : (move.reason ?? null);
  moveStage(sql, jobId, move.stage, move.from, move.to, error, now);
}

/**
 * Creates a started stage's tasks; a stage whose inputs would not fit its tasks fails instead
 * (returns false), for the next round to act on.
 */
function startStage(
  sql: Sql,
  effects: Effects,
  jobId: string,
  flow: ParsedDataflow,
  s: number,
  now: number,
): boolean {
  const { spec, graph } = flow;
  const refusal = inputsRefusal(stageInputs(sql, jobId, flow, s));
  if (refusal) {
    moveStage(
      sql,
      jobId,
      s,
      'running',
      'failed',
      `stage "${spec.stages[s]!.name}" cannot start: ${refusal}`,
      now,
    );
    return false;
  }
  const group = graph.groups[s] ?? s;
  const gang = (graph.members[s]?.length ?? 1) > 1 ? group : null;
  if (gang !== null) insertGang(sql, jobId, gang);
  const stage = spec.stages[s]!;
  if (stage.kind === 'aggregate') {
    // One task that no agent runs holds the stage while its own aggregate job runs.
    const hold = {
      pinnedWorkerId: STAGE_JOB_HOLD,
      stage: s,
      spec: stageTasks(s, stage.name, 1)[0]!.spec,
    };
    insertTasks(sql, jobId, 'aggregate', [hold], now);
    effects.stageJobs.push({ job_id: jobId, stage: s });
    return true;
  }
  const ref = spec.pipelines?.[s];
  // A pipeline stage's tasks go where its pipeline's do: to agents with its executors.
  const pipeline = ref ? { pipeline: { id: ref.pipelineId, requires: ref.requires } } : {};
  insertTasks(
    sql,
    jobId,
    stage.kind,
    stageTasks(s, stage.name, stageInstances(stage)).map((task) =>
      gang === null ? { ...task, ...pipeline } : { ...task, gang, pinnedWorkerId: GANG_HOLD },
    ),
    now,
  );
  effects.dispatch = true;
  return true;
}

/** The tasks of one stage: one per instance. */
function stageTasks(stage: number, name: string, parallelism: number): PlannedTask[] {
  return Array.from({ length: parallelism }, (_, instance) => ({
    pinnedWorkerId: null,
    stage,
    spec: { stage, name, instance } satisfies StageTaskPart,
  }));
}

function cancelRest(sql: Sql, effects: Effects, jobId: string, now: number): void {
  const reason = 'cancelled: another stage of this job failed';
  const count = cancelJobTasks(sql, effects, jobId, now, reason);
  if (count > 0) countTaskEnds(sql, jobId, { succeeded: 0, failed: 0, cancelled: count });
}

/** A failed job's error: the first stage that failed and did not allow it, and why. */
function jobError(sql: Sql, jobId: string, spec: DataflowJobSpec): string | null {
  const rows = stageRows(sql, jobId);
  const failed =
    rows.find((row) => row.state === 'failed' && !spec.stages[row.idx]?.continueOnFailure) ??
    rows.find((row) => row.state === 'cancelled' && row.error);
  if (!failed) return null;
  return `stage "${spec.stages[failed.idx]!.name}" ${failed.state}: ${failed.error ?? 'a task failed'}`;
}
