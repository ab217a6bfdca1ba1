/**
 * Builds what an agent receives for one attempt of one task. Aggregation steps get presigned URLs
 * for exactly the objects they read and write, valid until the attempt's deadline: never the
 * store's keys, so a worker (or whoever holds the join token) learns one job's objects, not a store.
 */
import { compactObjects, objectUrl, type TaskSpec } from '../protocol/index.ts';
import type { Sql } from './db/sql.ts';
import { jobKindAndSpec } from './db/jobs.ts';
import { storedTaskSpec } from './job-plan.ts';
import { toStoreAccess } from './object-stores.ts';
import { findStore, type StoreRow } from './db/object-stores.ts';
import { signingScope, type PresignMethod } from './storage/presign.ts';
import { AggregateJobSpec, AggregateTaskPart } from './aggregate-store.ts';
import { parseJsonColumn } from './db/json-column.ts';
import {
  finalOutputKey,
  mapOutputPrefix,
  mapPartialKey,
  reduceOutputKey,
} from './aggregate-plan.ts';
import { pipelineSpecBuilder } from './pipeline-assignment.ts';
import { PipelineJobSpec, PipelineTaskPart } from './pipeline-task-view.ts';
import { dataflowOf, type ParsedDataflow } from './dataflow-cache.ts';
import { stageSpecBuilder } from './dataflow-assignment.ts';

export interface TaskToSend {
  id: string;
  jobId: string;
  attempt: number;
  spec: string | null;
  /** When the control plane stops waiting for this attempt; null or absent: no timeout. */
  deadlineAt?: number | null;
}

/** URLs outlive the attempt's deadline by this much: the agent reports its timeout first. */
export const URL_GRACE_MS = 60_000;
/**
 * A task without a timeout gets URLs for this long. One running longer has its reads and writes
 * refused (access denied) and is retried, with fresh URLs, as its job's retries allow.
 */
export const URL_TTL_NO_DEADLINE_MS = 24 * 3600_000;

/**
 * Where a task's URLs point: the store's location as the agent may see it, a signer of whole URLs
 * (a map's few), and the signing scope that reduce and final steps get in compact form.
 */
function signedStore(row: StoreRow | null, expiresSeconds: number, now: Date) {
  if (!row) return null;
  const access = toStoreAccess(row);
  const signing = signingScope(access, expiresSeconds, now);
  return {
    view: { bucket: access.bucket, ...(access.endpoint ? { endpoint: access.endpoint } : {}) },
    url: (method: PresignMethod, key: string) =>
      objectUrl(signing.scope, key, signing.sign(method, key)),
    ...signing,
    /** GETs of `keys` as SignedObjects: a shared prefix and suffix once, a signature per key. */
    gets: (keys: readonly string[]) => compactObjects(keys, (key) => signing.sign('GET', key)),
  };
}

/** The PUT signature of `key`, as an optional field. */
const putSignature = (sign: (method: 'PUT', key: string) => string | undefined, key: string) => {
  const signature = sign('PUT', key);
  return signature === undefined ? {} : { outputSignature: signature };
};

/** A job's stored spec, parsed by its kind: pipeline, aggregate, or a simple one (command, echo). */
type StoredJob =
  | { kind: 'pipeline'; spec: PipelineJobSpec }
  | { kind: 'aggregate'; spec: AggregateJobSpec }
  | { kind: 'dataflow'; flow: ParsedDataflow }
  /** A command or echo job: every task runs the same spec, built once. */
  | { kind: 'simple'; task: TaskSpec };

function storedJob(row: { id: string; kind: string; spec: string }): StoredJob {
  if (row.kind === 'pipeline')
    return { kind: 'pipeline', spec: parseJsonColumn(PipelineJobSpec, row.spec, 'jobs.spec') };
  if (row.kind === 'aggregate')
    return { kind: 'aggregate', spec: parseJsonColumn(AggregateJobSpec, row.spec, 'jobs.spec') };
  if (row.kind === 'dataflow') return { kind: 'dataflow', flow: dataflowOf(row.id, row.spec) };
  return { kind: 'simple', task: parseJsonColumn(storedTaskSpec(row.kind), row.spec, 'jobs.spec') };
}

/** One builder per dispatch round: job specs and stores are read once each. */
export function specBuilder(sql: Sql, now = Date.now()): (task: TaskToSend) => TaskSpec | null {
  const jobs = new Map<string, StoredJob | null>();
  const stores = new Map<string, StoreRow | null>();
  const store = (id: string) => {
    if (!stores.has(id)) stores.set(id, findStore(sql, id));
    return stores.get(id)!;
  };
  const pipeline = pipelineSpecBuilder(sql);
  const stage = stageSpecBuilder(sql, pipeline);
  return (task) => {
    if (!jobs.has(task.jobId)) {
      const row = jobKindAndSpec(sql, task.jobId);
      jobs.set(task.jobId, row ? storedJob({ id: task.jobId, ...row }) : null);
    }
    const job = jobs.get(task.jobId);
    if (!job) return null;
    if (job.kind === 'pipeline')
      return task.spec === null
        ? null
        : pipeline(job.spec, parseJsonColumn(PipelineTaskPart, task.spec, 'tasks.spec').data);
    if (job.kind === 'simple') return { ...job.task };
    const validMs = task.deadlineAt ? task.deadlineAt - now + URL_GRACE_MS : URL_TTL_NO_DEADLINE_MS;
    const signedAt = new Date(now);
    const signed = (id: string) => signedStore(store(id), validMs / 1000, signedAt);
    if (job.kind === 'dataflow')
      return stage(task, job.flow, (id, method, key) => {
        const found = signed(id);
        return found ? { store: found.view, url: found.url(method, key) } : null;
      });
    const { spec } = job;
    const part =
      task.spec === null ? null : parseJsonColumn(AggregateTaskPart, task.spec, 'tasks.spec');
    const source = signed(spec.source.store);
    const output = signed(spec.output.store);
    if (!part || !source || !output) return null;
    const base = spec.output.base;
    switch (part.step) {
      case 'map': {
        const outputPrefix = mapOutputPrefix(base, task.id, task.attempt);
        return {
          kind: 'aggregate-map',
          query: spec.query,
          format: spec.source.format,
          source: source.view,
          input: part.input,
          inputUrl: source.url('GET', part.input.key),
          partitions: spec.partitions,
          output: output.view,
          outputPrefix,
          outputUrls: Array.from({ length: spec.partitions }, (_, p) =>
            output.url('PUT', mapPartialKey(outputPrefix, p)),
          ),
          ...(spec.inline ? { inlineBytes: spec.inline.map } : {}),
        };
      }
      case 'reduce': {
        const outputKey = reduceOutputKey(base, task.id, task.attempt);
        return {
          kind: 'aggregate-reduce',
          query: spec.query,
          partition: part.partition,
          store: output.view,
          urls: output.scope,
          inputs: output.gets(part.inputs),
          ...(part.inline?.length ? { inline: part.inline } : {}),
          outputKey,
          ...putSignature(output.sign, outputKey),
          ...(spec.inline ? { inlineBytes: spec.inline.reduce } : {}),
        };
      }
      case 'final': {
        const outputKey = finalOutputKey(base, task.jobId, task.attempt);
        return {
          kind: 'aggregate-final',
          query: spec.query,
          ...(spec.orderBy ? { orderBy: spec.orderBy } : {}),
          ...(spec.limit ? { limit: spec.limit } : {}),
          store: output.view,
          urls: output.scope,
          inputs: output.gets(part.inputs),
          ...(part.inline?.length ? { inline: part.inline } : {}),
          ...(part.partials ? { partials: true as const } : {}),
          outputKey,
          ...putSignature(output.sign, outputKey),
        };
      }
    }
  };
}
