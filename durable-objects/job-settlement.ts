/**
 * Settles jobs when their tasks end: counts the ends into their jobs, moves an aggregation to its
 * next phase, and ends a job whose tasks have all ended. It sits above the stores and the
 * aggregation's phases, which it drives.
 */
import { isEndState } from '../protocol/index.ts';
import type { Sql } from './db/sql.ts';
import { countTaskEnds, endJob, findJob } from './db/jobs.ts';
import { firstFailure } from './db/tasks.ts';
import type { Effects } from './effects.ts';
import { jobOutcome } from './job-outcome.ts';
import { advanceAggregate } from './aggregate-phases.ts';
import { advanceDataflow } from './dataflow-phases.ts';
import { scheduleCleanup } from './aggregate-cleanup.ts';
import { forgetInlineOutputs, inlineResult } from './aggregate-inline.ts';
import { stageOfChild, type StageHold } from './db/dataflow-stage-jobs.ts';
import { cancelOrphanedStageJobs, endStageHold, holdEndOf, type EndedJob } from './stage-jobs.ts';

/** Ends a job that cannot run at all (its inputs could not be listed, say) with a clear error. */
export function failJob(
  sql: Sql,
  effects: Effects,
  jobId: string,
  error: string,
  now: number,
): void {
  finishJob(sql, effects, { id: jobId, state: 'failed', error }, now);
}

/** Ends a job; a job a dataflow stage launched ends that stage's hold, which settles its job. */
function finishJob(sql: Sql, effects: Effects, job: EndedJob, now: number): void {
  endJob(sql, job.id, job.state, job.error, now);
  effects.endedJobs.push({ id: job.id, state: job.state });
  const hold = stageOfChild(sql, job.id);
  if (hold) endStageHold(sql, effects, hold, holdEndOf(sql, job), now, settleJob);
}

/** Fails a stage's hold whose job could not be launched, and settles the stage's job. */
export function failStageHold(
  sql: Sql,
  effects: Effects,
  hold: StageHold,
  error: string,
  now: number,
): void {
  endStageHold(sql, effects, hold, { state: 'failed', result: null, error }, now, settleJob);
}

/** Counts ended tasks into their jobs and settles every job whose tasks have all ended. */
export function recordTaskEnds(sql: Sql, effects: Effects, now: number, from = 0): void {
  const perJob = new Map<string, { succeeded: number; failed: number; cancelled: number }>();
  for (const task of effects.endedTasks.slice(from)) {
    const counts = perJob.get(task.jobId) ?? { succeeded: 0, failed: 0, cancelled: 0 };
    if (task.state === 'succeeded' || task.state === 'failed' || task.state === 'cancelled') {
      counts[task.state] += 1;
    }
    perJob.set(task.jobId, counts);
  }
  for (const [jobId, counts] of perJob) {
    countTaskEnds(sql, jobId, counts);
    settleJob(sql, effects, jobId, now);
  }
}

function settleJob(sql: Sql, effects: Effects, jobId: string, now: number): void {
  let row = findJob(sql, jobId);
  if (!row || isEndState(row.state)) return;
  if (row.kind === 'dataflow') {
    const end = advanceDataflow(sql, effects, row, now);
    cancelOrphanedStageJobs(sql, effects, jobId, now, settleJob);
    if (end) finishJob(sql, effects, { id: jobId, ...end }, now);
    return;
  }
  if (row.kind === 'aggregate') {
    if (advanceAggregate(sql, effects, row, now)) return;
    row = findJob(sql, jobId) ?? row;
  }
  const state = jobOutcome({
    total: row.tasks_total,
    succeeded: row.n_succeeded,
    failed: row.n_failed,
    cancelled: row.n_cancelled,
    cancelRequested: row.cancel_requested === 1,
  });
  if (!state) return;
  const error = state === 'failed' ? (firstFailure(sql, jobId) ?? 'a task failed') : null;
  finishJob(sql, effects, { id: jobId, state, error }, now);
  if (row.kind === 'aggregate') {
    const held = state === 'succeeded' ? inlineResult(sql, row) : null;
    if (held) effects.results.push(held);
    scheduleCleanup(sql, effects, jobId, now);
    forgetInlineOutputs(sql, jobId);
  }
}
