/**
 * What a dataflow job's stages name outside the job, checked at submit before anything is stored.
 * A pipeline stage names one of the tenant's own pipelines and runs the version that is latest
 * now; it is refused when the tenant may not run its steps or its data lacks a variable the
 * commands use. An aggregate stage names registered stores.
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
import { findStore } from './db/object-stores.ts';
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

/** Refuses (400) an aggregate stage that names a store that is not registered. */
export function checkStageStores(core: Core, request: DataflowJobRequest): void {
  for (const stage of request.stages) {
    if (stage.kind !== 'aggregate') continue;
    const named: [string, string][] = [['source.store', stage.source.store]];
    if (stage.output) named.push(['output.store', stage.output.store]);
    for (const [field, store] of named)
      if (!findStore(core.sql, store))
        throw badRequest(
          `stage "${stage.name}": unknown object store "${store}" in ${field}; register it with POST /v1/object-stores`,
        );
  }
}
