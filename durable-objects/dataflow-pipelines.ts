/**
 * A dataflow job's pipeline stages, resolved at submit: each names one of the tenant's own
 * pipelines, runs the version that is latest now, and is refused (before anything is stored) when
 * the tenant may not run its steps or its data lacks a variable the commands use.
 */
import {
  dataStrings,
  missingVariable,
  requiredExecutors,
  type DataflowJobRequest,
} from '../protocol/index.ts';
import type { Core } from './core.ts';
import { badRequest, notFound } from './failure.ts';
import { findVersion, specOf } from './db/pipelines.ts';
import { findOwnPipeline } from './pipeline-ops.ts';
import { checkPipelineSteps } from './tenant-access.ts';
import type { StagePipeline } from './dataflow-spec.ts';

/** The pipeline of each pipeline stage, by stage index. */
export function resolveStagePipelines(
  core: Core,
  owner: string | null,
  request: DataflowJobRequest,
): Record<string, StagePipeline> {
  const resolved: Record<string, StagePipeline> = {};
  request.stages.forEach((stage, s) => {
    if (stage.kind !== 'pipeline') return;
    const name = `${stage.application}/${stage.pipeline}`;
    if (owner === null)
      throw badRequest(
        `stage "${stage.name}" runs pipeline ${name}, and pipelines belong to tenants: submit the job with the tenant's token`,
      );
    const { pipeline } = findOwnPipeline(core, owner, stage.application, stage.pipeline);
    const version = findVersion(core.sql, pipeline.id, pipeline.version);
    if (!version) throw notFound('pipeline', name);
    const steps = specOf(version).pipeline;
    checkPipelineSteps(core.sql, owner, steps);
    const items = Array.isArray(stage.data) ? stage.data : [stage.data ?? {}];
    items.forEach((item, i) => {
      const missing = missingVariable(steps, dataStrings(item));
      if (missing) {
        const which = Array.isArray(stage.data) ? `data item ${i}: ` : '';
        throw badRequest(`stage "${stage.name}": ${which}${missing.message}`, {
          stage: stage.name,
          variable: missing.variable,
        });
      }
    });
    resolved[s] = {
      application: stage.application,
      pipeline: stage.pipeline,
      pipelineId: pipeline.id,
      version: pipeline.version,
      requires: requiredExecutors(steps),
    };
  });
  return resolved;
}
