/**
 * A dataflow stage's files, as store keys: the files an instance receives before it starts (its
 * aggregate upstreams' Arrow results, its upstream instances' declared outputs) and the ones it
 * uploads when it succeeds. The assignment signs a URL for each, for that one attempt.
 */
import type { Sql } from './db/sql.ts';
import { stageResults, succeededInstances } from './db/dataflow-stages.ts';
import type { DataflowJobSpec, StageGraph, StageTaskPart } from './dataflow-spec.ts';
import { StageJobResult } from './stage-job-result.ts';

/** One file: its place in the input folder (or its output name) and its object. */
export interface StageFile {
  path: string;
  store: string;
  key: string;
}

/**
 * An output file's key: each attempt writes its own, so a lost attempt that still runs never
 * overwrites the files of the one that succeeded, which downstreams read.
 */
export const outputKey = (
  base: string,
  at: { stage: string; instance: number; attempt: number },
  name: string,
): string => `${base}${at.stage}/${at.instance}/${at.attempt}/${name}`;

/** The files a command stage's instances receive. */
export function stageFiles(
  sql: Sql,
  jobId: string,
  { spec, graph }: { spec: DataflowJobSpec; graph: StageGraph },
  s: number,
): StageFile[] {
  if (spec.stages[s]?.kind !== 'command') return [];
  const upstreams = graph.dependsOn[s] ?? [];
  const aggregates = upstreams.filter((u) => spec.stages[u]?.kind === 'aggregate');
  const writers = upstreams.filter((u) => outputsOf(spec, u).length > 0);
  const files: StageFile[] = [];
  if (aggregates.length > 0)
    for (const { stage, result } of stageResults(sql, jobId, aggregates)) {
      const found = result === null ? null : StageJobResult.parse(JSON.parse(result));
      if (found?.store && found.key)
        files.push({
          path: `${spec.stages[stage]!.name}/result.arrow`,
          store: found.store,
          key: found.key,
        });
    }
  const location = spec.outputs;
  if (location && writers.length > 0)
    for (const { stage, instance, attempt } of succeededInstances(sql, jobId, writers)) {
      const name = spec.stages[stage]!.name;
      for (const output of outputsOf(spec, stage))
        files.push({
          path: `${name}/outputs/${instance}/${output}`,
          store: location.store,
          key: outputKey(location.base, { stage: name, instance, attempt }, output),
        });
    }
  return files;
}

/** The files one attempt of a stage instance uploads, as `path` its output's name. */
export function stageOutputs(
  spec: DataflowJobSpec,
  part: StageTaskPart,
  attempt: number,
): StageFile[] {
  const location = spec.outputs;
  if (!location) return [];
  const at = { stage: part.name, instance: part.instance, attempt };
  return outputsOf(spec, part.stage).map((name) => ({
    path: name,
    store: location.store,
    key: outputKey(location.base, at, name),
  }));
}

function outputsOf(spec: DataflowJobSpec, s: number): readonly string[] {
  const stage = spec.stages[s];
  return stage?.kind === 'command' ? (stage.outputs ?? []) : [];
}
