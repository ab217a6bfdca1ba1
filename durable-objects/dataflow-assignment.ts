/** What each task of a dataflow job runs, built once per stage in a dispatch round. */
import type { TaskSpec, TaskStore } from '../protocol/index.ts';
import type { Sql } from './db/sql.ts';
import { parseJsonColumn } from './db/json-column.ts';
import { findGang, stagePeers } from './db/dataflow-gangs.ts';
import { stageInputs, stageTaskSpec, StageTaskPart, type StageInputs } from './dataflow-spec.ts';
import { stageFiles, stageOutputs, type StageFile } from './dataflow-files.ts';
import { streamPlan } from './stream-plan.ts';
import type { ParsedDataflow } from './dataflow-cache.ts';
import type { PipelineTaskBuilder } from './pipeline-assignment.ts';

/** A GET or PUT of one object of a store, signed for one attempt; null when the store is gone. */
export type SignObject = (
  storeId: string,
  method: 'GET' | 'PUT',
  key: string,
) => { store: TaskStore; url: string } | null;

/** The files' URLs, for those whose store is still there. */
const signed = (files: readonly StageFile[], method: 'GET' | 'PUT', sign: SignObject) =>
  files.flatMap(({ path, store, key }) => {
    const found = sign(store, method, key);
    return found ? [{ path, key, ...found }] : [];
  });

/** A builder for one dispatch round: each stage's upstream results and peers are read once. */
export function stageSpecBuilder(sql: Sql, pipeline: PipelineTaskBuilder) {
  const inputs = new Map<string, StageInputs>();
  const peers = new Map<string, ReturnType<typeof stagePeers>>();
  const stored = new Map<string, StageFile[]>();
  const once = <T>(cache: Map<string, T>, key: string, read: () => T): T => {
    if (!cache.has(key)) cache.set(key, read());
    return cache.get(key)!;
  };
  return (
    task: { jobId: string; attempt: number; spec: string | null },
    flow: ParsedDataflow,
    sign: SignObject,
  ): TaskSpec | null => {
    const { jobId, spec: taskSpec } = task;
    const { spec, graph } = flow;
    if (taskSpec === null) return null;
    const part = parseJsonColumn(StageTaskPart, taskSpec, 'tasks.spec');
    const found = once(inputs, `${jobId}/${part.stage}`, () =>
      stageInputs(sql, jobId, flow, part.stage),
    );
    const gets = once(stored, `${jobId}/${part.stage}`, () =>
      stageFiles(sql, jobId, flow, part.stage),
    );
    const puts = signed(stageOutputs(spec, part, task.attempt), 'PUT', sign);
    const files = {
      files: signed(gets, 'GET', sign),
      ...(puts.length > 0
        ? {
            outputs: {
              store: puts[0]!.store,
              files: puts.map(({ path, key, url }) => ({ name: path, key, url })),
            },
          }
        : {}),
    };
    const group = graph.groups[part.stage] ?? part.stage;
    const gang = spec.stages[part.stage]?.kind === 'command' ? findGang(sql, jobId, group) : null;
    if (!gang) return stageTaskSpec(spec, part, found, null, pipeline, files);
    const plan = streamPlan(spec, part.stage, gang, (d) =>
      once(peers, `${jobId}/${d}`, () => stagePeers(sql, jobId, d)),
    );
    return plan ? stageTaskSpec(spec, part, found, plan, pipeline, files) : null;
  };
}
