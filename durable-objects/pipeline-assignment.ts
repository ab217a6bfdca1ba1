/** What an agent receives for a pipeline task: the steps of the version it was submitted to, and its data. */
import type { PipelineSpec, PipelineTaskSpec } from '../protocol/index.ts';
import type { Sql } from './db/sql.ts';
import { findVersion, specOf } from './db/pipelines.ts';
import type { PipelineJobSpec } from './pipeline-task-view.ts';

/** Builds a pipeline task's spec from its job's pipeline version and the task's data. */
export type PipelineTaskBuilder = (
  job: PipelineJobSpec,
  data: Record<string, string>,
) => PipelineTaskSpec | null;

/**
 * One builder per dispatch round: each version's definition is read once. Pipeline jobs' tasks
 * and dataflow jobs' pipeline stages both use it.
 */
export function pipelineSpecBuilder(sql: Sql): PipelineTaskBuilder {
  const versions = new Map<string, PipelineSpec | null>();
  return (job, data) => {
    const key = `${job.pipelineId}#${job.version}`;
    if (!versions.has(key)) {
      const row = findVersion(sql, job.pipelineId, job.version);
      versions.set(key, row ? specOf(row) : null);
    }
    const spec = versions.get(key);
    if (!spec) return null;
    return {
      kind: 'pipeline',
      application: job.application,
      pipeline: job.pipeline,
      version: job.version,
      steps: spec.pipeline.map((step) => ({
        name: step.name,
        executor: step.executor,
        commands: step.commands,
        ...(step.timeoutSeconds ? { timeoutSeconds: step.timeoutSeconds } : {}),
      })),
      result: spec.result,
      data,
      ...(spec.timeoutSeconds ? { timeoutSeconds: spec.timeoutSeconds } : {}),
    };
  };
}
