/**
 * Dataflow stages that run a job of their own (aggregate stages), inside the transactions that
 * end jobs: the launched job's end ends the stage's hold (its one task) with the job's outcome and
 * result, and a hold that ended first (the dataflow failed or was cancelled) cancels the job.
 */
import { FinalResult, type JobState } from '../protocol/index.ts';
import type { Sql } from './db/sql.ts';
import type { Effects } from './effects.ts';
import { countTaskEnds, findJob, requestCancel } from './db/jobs.ts';
import { succeededResults } from './db/tasks.ts';
import { endHold, orphanedStageJobs, type StageHold } from './db/dataflow-stage-jobs.ts';
import { parseJsonColumn } from './db/json-column.ts';
import { cancelJobTasks } from './task-lifecycle.ts';
import { AggregateJobSpec } from './aggregate-store.ts';
import { StageJobResult } from './stage-job-result.ts';

export interface EndedJob {
  id: string;
  state: JobState;
  error: string | null;
}

type Settle = (sql: Sql, effects: Effects, jobId: string, now: number) => void;

/** What a stage's hold keeps of its aggregate job: where its Arrow result is, and its rows. */
function holdResult(sql: Sql, jobId: string): StageJobResult {
  const [final] = succeededResults(sql, jobId, 'aggregate-final');
  const job = findJob(sql, jobId);
  if (!final || !job) return { job: jobId, rows: 0 };
  const { key, groups } = parseJsonColumn(FinalResult, final, 'tasks.result');
  const { output } = parseJsonColumn(AggregateJobSpec, job.spec, 'jobs.spec');
  return { job: jobId, rows: groups, store: output.store, key };
}

export interface HoldEnd {
  state: JobState;
  result: string | null;
  error: string | null;
}

/** How a stage's hold ends when its job has: with the job's outcome, and its result. */
export function holdEndOf(sql: Sql, child: EndedJob): HoldEnd {
  if (child.state === 'succeeded')
    return { state: 'succeeded', result: JSON.stringify(holdResult(sql, child.id)), error: null };
  const why = child.error ? `: ${child.error}` : '';
  return { state: child.state, result: null, error: `job ${child.id} ${child.state}${why}` };
}

/** Ends the stage's hold (unless it has ended), and settles the dataflow job the stage is in. */
export function endStageHold(
  sql: Sql,
  effects: Effects,
  hold: StageHold,
  end: HoldEnd,
  now: number,
  settle: Settle,
): void {
  const id = endHold(sql, hold, { ...end, now });
  if (!id) return;
  effects.endedTasks.push({ id, jobId: hold.job_id, state: end.state });
  countTaskEnds(sql, hold.job_id, {
    succeeded: end.state === 'succeeded' ? 1 : 0,
    failed: end.state === 'failed' ? 1 : 0,
    cancelled: end.state === 'cancelled' ? 1 : 0,
  });
  settle(sql, effects, hold.job_id, now);
}

/** Cancels the jobs of `jobId`'s stages whose holds have ended while the jobs ran. */
export function cancelOrphanedStageJobs(
  sql: Sql,
  effects: Effects,
  jobId: string,
  now: number,
  settle: Settle,
): void {
  for (const child of orphanedStageJobs(sql, jobId)) {
    requestCancel(sql, child);
    const count = cancelJobTasks(sql, effects, child, now, 'cancelled: its dataflow stage ended');
    if (count > 0) countTaskEnds(sql, child, { succeeded: 0, failed: 0, cancelled: count });
    settle(sql, effects, child, now);
  }
}
