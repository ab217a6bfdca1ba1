/**
 * A pipeline task as the API shows it: its steps (from the result once it succeeded, else from
 * the progress its current attempt reported), its result, and why it waits when it is queued.
 */
import {
  PipelineResult,
  StepReport,
  type PipelineSpec,
  type PipelineTaskView,
  type StepView,
} from '../protocol/index.ts';
import { z } from 'zod';
import type { Sql } from './db/sql.ts';
import { jobSpec } from './db/jobs.ts';
import { executorsOf, iso, isoOrNull } from './views.ts';
import { type TaskRow } from './db/rows.ts';
import { findVersion, specOf } from './db/pipelines.ts';
import { runningCount } from './pipeline-stats.ts';
import { connectedReadyWorkers } from './db/workers.ts';
import { waitingReason } from './waiting-reason.ts';
import { parseJsonColumn } from './db/json-column.ts';

export interface PipelineScope {
  application: string;
  pipeline: string;
  pipelineId: string;
  /** The latest version's definition: its maxConcurrency applies to every queued task. */
  latest: PipelineSpec;
}

/** The job spec of a pipeline job. */
export const PipelineJobSpec = z.object({
  application: z.string(),
  pipeline: z.string(),
  pipelineId: z.string(),
  version: z.number().int(),
});
export type PipelineJobSpec = z.infer<typeof PipelineJobSpec>;

/** A pipeline task's own part of the spec: its data. */
export const PipelineTaskPart = z.object({ data: z.record(z.string(), z.string()) });
export type PipelineTaskPart = z.infer<typeof PipelineTaskPart>;

const Progress = z.object({ attempt: z.number(), steps: z.array(StepReport) });

/** Views of tasks of one pipeline; versions, agents and the running count are read once. */
export function pipelineTaskViews(
  sql: Sql,
  scope: PipelineScope,
  rows: readonly TaskRow[],
  now: number,
): PipelineTaskView[] {
  const versionOf = memo(
    (jobId: string) => parseJsonColumn(PipelineJobSpec, jobSpec(sql, jobId), 'jobs.spec').version,
  );
  const specFor = memo((version: number) => {
    const row = findVersion(sql, scope.pipelineId, version);
    return row ? specOf(row) : scope.latest;
  });
  // Agents and the running count are read only if some task is queued.
  const waiting = rows.some((row) => row.state === 'queued')
    ? waitingContext(sql, scope, now)
    : null;
  return rows.map((row) => {
    const version = versionOf(row.job_id);
    const spec = specFor(version);
    const outcome = row.state === 'succeeded' ? PipelineResult.safeParse(parse(row.result)) : null;
    return {
      id: row.id,
      jobId: row.job_id,
      application: scope.application,
      pipeline: scope.pipeline,
      version,
      index: row.idx,
      state: row.state,
      attempt: row.attempt,
      workerId: row.worker_id,
      data: (parse(row.spec) as PipelineTaskPart | null)?.data ?? {},
      steps: outcome?.success ? finishedSteps(outcome.data) : reportedSteps(spec, row),
      result: outcome?.success ? outcome.data.result : null,
      exitCode: row.exit_code,
      error: row.error,
      waiting: row.state === 'queued' && waiting ? waiting(row) : null,
      createdAt: iso(row.created_at),
      startedAt: isoOrNull(row.started_at),
      finishedAt: isoOrNull(row.finished_at),
    };
  });
}

function waitingContext(sql: Sql, scope: PipelineScope, now: number) {
  const agents = connectedReadyWorkers(sql).map(executorsOf);
  const running = runningCount(sql, scope.pipelineId);
  return (row: TaskRow) =>
    waitingReason({
      requires: (parse(row.requires) as string[] | null) ?? [],
      agents,
      notBefore: row.not_before,
      now,
      running,
      maxConcurrency: scope.latest.maxConcurrency,
    });
}

function finishedSteps(result: PipelineResult): StepView[] {
  return result.steps.map((step) => ({ ...step, state: 'succeeded' }));
}

/** Steps as the current attempt reported them; the rest (and all of a queued task's) pending. */
function reportedSteps(spec: PipelineSpec, row: TaskRow): StepView[] {
  const progress = Progress.safeParse(parse(row.progress));
  const current =
    row.state !== 'queued' && progress.success && progress.data.attempt === row.attempt;
  const reports = current ? progress.data.steps : [];
  return spec.pipeline.map((step, index) => {
    const report = reports[index];
    return {
      name: step.name,
      executor: step.executor,
      state: report?.state ?? 'pending',
      exitCode: report?.exitCode ?? null,
      output: null,
      truncated: false,
      startedAt: report?.startedAt ?? null,
      finishedAt: report?.finishedAt ?? null,
    };
  });
}

/** `load`, each key loaded once. */
function memo<K, V>(load: (key: K) => V): (key: K) => V {
  const cache = new Map<K, V>();
  return (key) => {
    if (!cache.has(key)) cache.set(key, load(key));
    return cache.get(key) as V;
  };
}

function parse(text: string | null): unknown {
  return text === null ? null : (JSON.parse(text) as unknown);
}
