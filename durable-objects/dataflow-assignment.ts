/** What each task of a dataflow job runs, built once per stage in a dispatch round. */
import type { TaskSpec, TaskStore } from '../protocol/index.ts';
import type { Sql } from './db/sql.ts';
import { parseJsonColumn } from './db/json-column.ts';
import { findGang, stagePeers } from './db/dataflow-gangs.ts';
import {
  stageFiles,
  stageInputs,
  stageTaskSpec,
  StageTaskPart,
  type StageFile,
  type StageInputs,
} from './dataflow-spec.ts';
import { streamPlan } from './stream-plan.ts';
import type { ParsedDataflow } from './dataflow-cache.ts';
import type { PipelineTaskBuilder } from './pipeline-assignment.ts';

/** A GET of one object of a store, signed for one attempt; null when the store is gone. */
export type SignGet = (storeId: string, key: string) => { store: TaskStore; url: string } | null;

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
    jobId: string,
    flow: ParsedDataflow,
    taskSpec: string | null,
    sign: SignGet,
  ): TaskSpec | null => {
    const { spec, graph } = flow;
    if (taskSpec === null) return null;
    const part = parseJsonColumn(StageTaskPart, taskSpec, 'tasks.spec');
    const found = once(inputs, `${jobId}/${part.stage}`, () =>
      stageInputs(sql, jobId, flow, part.stage),
    );
    const files = once(stored, `${jobId}/${part.stage}`, () =>
      stageFiles(sql, jobId, flow, part.stage),
    ).flatMap(({ stage, store, key }) => {
      const get = sign(store, key);
      return get ? [{ stage, key, ...get }] : [];
    });
    const group = graph.groups[part.stage] ?? part.stage;
    const gang = spec.stages[part.stage]?.kind === 'command' ? findGang(sql, jobId, group) : null;
    if (!gang) return stageTaskSpec(spec, part, found, null, pipeline, files);
    const plan = streamPlan(spec, part.stage, gang, (d) =>
      once(peers, `${jobId}/${d}`, () => stagePeers(sql, jobId, d)),
    );
    return plan ? stageTaskSpec(spec, part, found, plan, pipeline, files) : null;
  };
}
