/**
 * What a dataflow job's stages name outside the job, checked at submit before anything is stored.
 * A pipeline stage names one of the tenant's own pipelines and runs the version that is latest
 * now; it is refused when the tenant may not run its steps or its data lacks a variable the
 * commands use. An aggregate stage, and the job's outputs location, name registered stores.
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
import type { DataflowJobSpec, StagePipeline } from './dataflow-spec.ts';

/** What the job's stored spec keeps of what its stages name: pipelines and where outputs go. */
export function stageRefs(
  core: Core,
  owner: string | null,
  request: DataflowJobRequest,
  jobId: string,
): { pipelines: Record<string, StagePipeline>; outputs: DataflowJobSpec['outputs'] } {
  checkStageStores(core, request);
  return {
    pipelines: resolveStagePipelines(core, owner, request),
    outputs: request.outputs ? outputsFolder(core, request.outputs, jobId) : undefined,
  };
}

/** The job's folder for its stages' output files: `<store prefix><prefix>/<job id>/`. */
function outputsFolder(
  core: Core,
  outputs: NonNullable<DataflowJobRequest['outputs']>,
  jobId: string,
): DataflowJobSpec['outputs'] {
  const store = findStore(core.sql, outputs.store);
  if (!store)
    throw badRequest(
      `unknown object store "${outputs.store}" in outputs.store; register it with POST /v1/object-stores`,
    );
  const folder = outputs.prefix.replace(/^\/+|\/+$/g, '');
  return { store: store.id, base: `${store.prefix}${folder ? `${folder}/` : ''}${jobId}/` };
}

/** The pipeline of each pipeline stage, by stage index. */
function resolveStagePipelines(
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
function checkStageStores(core: Core, request: DataflowJobRequest): void {
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
