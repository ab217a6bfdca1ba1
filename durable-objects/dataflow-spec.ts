/**
 * A dataflow job's stored spec and what each of its tasks runs: a stage's command, echo or
 * pipeline task, with its place in the stage and its upstreams' results as text.
 */
import { z } from 'zod';
import {
  dataStrings,
  jsonBytes,
  MAX_STAGE_INPUT_BYTES,
  PipelineResult,
  renderArgv,
  renderTemplates,
  Stage,
  stageInstances,
  stageOrder,
  streamGroups,
  type DataflowJobRequest,
  type StageInstance,
  type StreamPlan,
  type TaskSpec,
} from '../protocol/index.ts';
import type { Sql } from './db/sql.ts';
import { stageResults } from './db/dataflow-stages.ts';
import type { DataflowShape } from './dataflow-plan.ts';
import { PipelineJobSpec } from './pipeline-task-view.ts';
import type { PipelineTaskBuilder } from './pipeline-assignment.ts';

/** A pipeline stage's pipeline, resolved at submit: its version, and the executors it needs. */
export const StagePipeline = PipelineJobSpec.extend({ requires: z.array(z.string()) });
export type StagePipeline = z.infer<typeof StagePipeline>;

export const DataflowJobSpec = z.object({
  stages: z.array(Stage),
  /** Where declared output files go: a store (by id) and the job's folder in it. */
  outputs: z.object({ store: z.string(), base: z.string() }).optional(),
  /** Pipeline stages' pipelines, by stage index. */
  pipelines: z.record(z.string(), StagePipeline).optional(),
});
export type DataflowJobSpec = z.infer<typeof DataflowJobSpec>;

/** What a dataflow task's `spec` column holds: its stage and its instance in it. */
export const StageTaskPart = z.object({
  stage: z.number().int(),
  name: z.string(),
  instance: z.number().int(),
});
export type StageTaskPart = z.infer<typeof StageTaskPart>;

export const storedDataflowSpec = (
  request: DataflowJobRequest,
  refs: { pipelines: Record<string, StagePipeline>; outputs: DataflowJobSpec['outputs'] },
): DataflowJobSpec => ({
  stages: request.stages,
  ...(Object.keys(refs.pipelines).length > 0 ? { pipelines: refs.pipelines } : {}),
  ...(refs.outputs ? { outputs: refs.outputs } : {}),
});

export interface StageGraph extends DataflowShape {
  /** Each stage's stream group, as the index of its first stage (streamGroups). */
  groups: number[];
}

export function stageGraph(spec: DataflowJobSpec): StageGraph {
  const index = new Map(spec.stages.map((stage, s) => [stage.name, s]));
  const groups = streamGroups(spec.stages);
  const byGroup = new Map<number, number[]>();
  groups.forEach((group, s) => byGroup.set(group, [...(byGroup.get(group) ?? []), s]));
  return {
    names: spec.stages.map((stage) => stage.name),
    dependsOn: spec.stages.map((stage) => (stage.dependsOn ?? []).map((name) => index.get(name)!)),
    members: groups.map((group) => byGroup.get(group)!),
    continueOnFailure: spec.stages.map((stage) => stage.continueOnFailure ?? false),
    groups,
    order: stageOrder(spec.stages),
  };
}

/**
 * A result as a downstream task reads it: a string as itself, any other JSON as its text, and a
 * pipeline task's as its result step's stdout.
 */
function resultText(json: string | null, kind: string): string | null {
  if (json === null) return null;
  const value: unknown = JSON.parse(json);
  if (kind === 'pipeline') return PipelineResult.parse(value).result;
  return typeof value === 'string' ? value : json;
}

export type StageInputs = Record<string, (string | null)[]>;

/** The results of a stage's upstreams, by upstream name and instance (none for echo stages). */
export function stageInputs(
  sql: Sql,
  jobId: string,
  { spec, graph }: { spec: DataflowJobSpec; graph: StageGraph },
  s: number,
): StageInputs {
  const upstreams = graph.dependsOn[s] ?? [];
  const inputs: StageInputs = {};
  const kind = spec.stages[s]?.kind;
  if ((kind !== 'command' && kind !== 'pipeline') || upstreams.length === 0) return inputs;
  for (const u of upstreams) inputs[spec.stages[u]!.name] = [];
  for (const { stage, result } of stageResults(sql, jobId, upstreams)) {
    const upstream = spec.stages[stage]!;
    inputs[upstream.name]!.push(resultText(result, upstream.kind));
  }
  return inputs;
}

/** Why a stage cannot receive these inputs (they do not fit an assignment), or null. */
export function inputsRefusal(inputs: StageInputs): string | null {
  const bytes = jsonBytes(inputs);
  if (bytes <= MAX_STAGE_INPUT_BYTES) return null;
  return (
    `its upstreams' results are ${bytes} bytes of JSON, and a stage receives at most ` +
    `${MAX_STAGE_INPUT_BYTES}: write bulk data to the object store and print its key`
  );
}

/** A pipeline stage instance's data: its item (or the one object), upstream templates rendered. */
function instanceData(
  data: Extract<Stage, { kind: 'pipeline' }>['data'],
  instance: number,
  inputs: StageInputs,
): Record<string, string> | null {
  const item = Array.isArray(data) ? data[instance] : (data ?? {});
  if (!item) return null;
  const values = dataStrings(item);
  for (const name of Object.keys(values)) values[name] = renderTemplates(values[name]!, inputs);
  return values;
}

/** What an agent runs for one instance of a stage. */
export function stageTaskSpec(
  spec: DataflowJobSpec,
  part: StageTaskPart,
  inputs: StageInputs,
  stream: StreamPlan | null,
  pipeline: PipelineTaskBuilder,
  files: Pick<StageInstance, 'files' | 'outputs'> = {},
): TaskSpec | null {
  const stage = spec.stages[part.stage];
  // An aggregate stage's hold is never sent: its own job's tasks run instead.
  if (!stage || stage.kind === 'aggregate') return null;
  if (stage.kind === 'echo') return { kind: 'echo', payload: stage.payload };
  if (stage.kind === 'pipeline') {
    const ref = spec.pipelines?.[part.stage];
    const data = instanceData(stage.data, part.instance, inputs);
    return ref && data ? pipeline(ref, data) : null;
  }
  return {
    kind: 'command',
    command: typeof stage.command === 'string' ? stage.command : renderArgv(stage.command, inputs),
    path: stage.path ?? '.',
    env: stage.env ?? {},
    ...(stage.timeoutSeconds ? { timeoutSeconds: stage.timeoutSeconds } : {}),
    stage: {
      name: stage.name,
      instance: part.instance,
      parallelism: stageInstances(stage),
      inputs,
      ...(files.files?.length ? { files: files.files } : {}),
      ...(files.outputs ? { outputs: files.outputs } : {}),
    },
    ...(stream ? { stream } : {}),
  };
}
