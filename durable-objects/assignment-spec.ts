/** Builds what an agent receives for one attempt of one task, with store access filled in. */
import type { TaskSpec } from '../protocol/index.ts';
import type { Sql } from './sql.ts';
import { simpleTaskSpec } from './job-plan.ts';
import { findStore, toStoreAccess } from './object-stores.ts';
import type { AggregateJobSpec, AggregateTaskPart } from './aggregate-store.ts';
import { finalOutputKey, mapOutputPrefix, reduceOutputKey } from './aggregate-plan.ts';
import { pipelineSpecBuilder } from './pipeline-assignment.ts';
import type { PipelineJobSpec } from './pipeline-task-view.ts';

export interface TaskToSend {
  id: string;
  jobId: string;
  attempt: number;
  spec: string | null;
}

/** One builder per dispatch round: job specs and store access are read once each. */
export function specBuilder(sql: Sql): (task: TaskToSend) => TaskSpec | null {
  const jobs = new Map<string, { kind: string; spec: Record<string, unknown> } | null>();
  const access = (id: string) => {
    const row = findStore(sql, id);
    return row ? toStoreAccess(row) : null;
  };
  const pipeline = pipelineSpecBuilder(sql);
  return (task) => {
    if (!jobs.has(task.jobId)) {
      const row = sql.first<{ kind: string; spec: string }>(
        `SELECT kind, spec FROM jobs WHERE id = ?`,
        task.jobId,
      );
      jobs.set(
        task.jobId,
        row ? { kind: row.kind, spec: JSON.parse(row.spec) as Record<string, unknown> } : null,
      );
    }
    const job = jobs.get(task.jobId);
    if (!job) return null;
    if (job.kind === 'pipeline') return pipeline(job.spec as unknown as PipelineJobSpec, task.spec);
    if (job.kind !== 'aggregate') return simpleTaskSpec(job.kind, job.spec);
    const spec = job.spec as unknown as AggregateJobSpec;
    const part = JSON.parse(task.spec ?? 'null') as AggregateTaskPart | null;
    const source = access(spec.source.store);
    const output = access(spec.output.store);
    if (!part || !source || !output) return null;
    const base = spec.output.base;
    switch (part.step) {
      case 'map':
        return {
          kind: 'aggregate-map',
          query: spec.query,
          format: spec.source.format,
          source,
          input: part.input,
          partitions: spec.partitions,
          output,
          outputPrefix: mapOutputPrefix(base, task.id, task.attempt),
          ...(spec.inline ? { inlineBytes: spec.inline.map } : {}),
        };
      case 'reduce':
        return {
          kind: 'aggregate-reduce',
          query: spec.query,
          partition: part.partition,
          store: output,
          inputs: part.inputs,
          ...(part.inline?.length ? { inline: part.inline } : {}),
          outputKey: reduceOutputKey(base, task.id, task.attempt),
          ...(spec.inline ? { inlineBytes: spec.inline.reduce } : {}),
        };
      case 'final':
        return {
          kind: 'aggregate-final',
          query: spec.query,
          ...(spec.orderBy ? { orderBy: spec.orderBy } : {}),
          ...(spec.limit ? { limit: spec.limit } : {}),
          store: output,
          inputs: part.inputs,
          ...(part.inline?.length ? { inline: part.inline } : {}),
          ...(part.partials ? { partials: true as const } : {}),
          outputKey: finalOutputKey(base, task.jobId, task.attempt),
        };
    }
  };
}
