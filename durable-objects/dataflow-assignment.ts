/** What each task of a dataflow job runs, built once per stage in a dispatch round. */
import type { TaskSpec } from '../protocol/index.ts';
import type { Sql } from './db/sql.ts';
import { parseJsonColumn } from './db/json-column.ts';
import { findGang, stagePeers } from './db/dataflow-gangs.ts';
import { stageInputs, stageTaskSpec, StageTaskPart, type StageInputs } from './dataflow-spec.ts';
import { streamPlan } from './stream-plan.ts';
import type { ParsedDataflow } from './dataflow-cache.ts';
import type { PipelineTaskBuilder } from './pipeline-assignment.ts';

/** A builder for one dispatch round: each stage's upstream results and peers are read once. */
export function stageSpecBuilder(sql: Sql, pipeline: PipelineTaskBuilder) {
  const inputs = new Map<string, StageInputs>();
  const peers = new Map<string, ReturnType<typeof stagePeers>>();
  const once = <T>(cache: Map<string, T>, key: string, read: () => T): T => {
    if (!cache.has(key)) cache.set(key, read());
    return cache.get(key)!;
  };
  return (jobId: string, flow: ParsedDataflow, taskSpec: string | null): TaskSpec | null => {
    const { spec, graph } = flow;
    if (taskSpec === null) return null;
    const part = parseJsonColumn(StageTaskPart, taskSpec, 'tasks.spec');
    const found = once(inputs, `${jobId}/${part.stage}`, () =>
      stageInputs(sql, jobId, flow, part.stage),
    );
    const group = graph.groups[part.stage] ?? part.stage;
    const gang = spec.stages[part.stage]?.kind === 'command' ? findGang(sql, jobId, group) : null;
    if (!gang) return stageTaskSpec(spec, part, found, null, pipeline);
    const plan = streamPlan(spec, part.stage, gang, (d) =>
      once(peers, `${jobId}/${d}`, () => stagePeers(sql, jobId, d)),
    );
    return plan ? stageTaskSpec(spec, part, found, plan, pipeline) : null;
  };
}
