/** What an agent receives for a pipeline task: the steps of the version it was submitted to, and its data. */
import type { PipelineSpec, PipelineTaskSpec } from '../protocol/index.ts';
import type { Sql } from './db/sql.ts';
import { findVersion, specOf } from './db/pipelines.ts';
import { PipelineTaskPart, type PipelineJobSpec } from './pipeline-task-view.ts';
import { parseJsonColumn } from './db/json-column.ts';

/** One builder per dispatch round: each version's definition is read once. */
export function pipelineSpecBuilder(
  sql: Sql,
): (job: PipelineJobSpec, taskSpec: string | null) => PipelineTaskSpec | null {
  const versions = new Map<string, PipelineSpec | null>();
  return (job, taskSpec) => {
    const key = `${job.pipelineId}#${job.version}`;
    if (!versions.has(key)) {
      const row = findVersion(sql, job.pipelineId, job.version);
      versions.set(key, row ? specOf(row) : null);
    }
    const spec = versions.get(key);
    const part =
      taskSpec === null ? null : parseJsonColumn(PipelineTaskPart, taskSpec, 'tasks.spec');
    if (!spec || !part) return null;
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
      data: part.data,
      ...(spec.timeoutSeconds ? { timeoutSeconds: spec.timeoutSeconds } : {}),
    };
  };
}
