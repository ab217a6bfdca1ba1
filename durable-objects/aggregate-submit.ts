/** Turns an aggregate request into a job draft: resolve stores, list the inputs, plan the map tasks. */
import { MAX_TASKS_PER_JOB, type AggregateJobRequest } from '../protocol/index.ts';
import type { Core } from './core.ts';
import { countReadyConnected } from './db/workers.ts';
import { badRequest } from './failure.ts';
import type { JobDraft } from './job-plan.ts';
import { resolvePolicy } from './job-policy.ts';
import { findStore, type StoreRow } from './db/object-stores.ts';
import { headObject, listAll, StoreError, type Listing } from './storage/s3.ts';
import {
  aggregateQuery,
  inlineAllowance,
  internalFolder,
  INTERNAL_DIR,
  partitionCount,
  planSplits,
} from './aggregate-plan.ts';
import type { AggregateJobSpec, AggregateTaskPart } from './aggregate-store.ts';
import { lastReaders } from './split-reads.ts';
import { freeWorkers } from './dispatch-send.ts';
import { totalFreeSlots } from './placement.ts';

/** A draft to insert, and the error that ends the job at once when its inputs cannot be read. */
export async function draftAggregate(
  core: Core,
  id: string,
  request: AggregateJobRequest,
): Promise<{ draft: JobDraft; error: string | null }> {
  const source = store(core, request.source.store, 'source.store');
  const output = request.output ? store(core, request.output.store, 'output.store') : source;
  const base = request.output
    ? `${output.prefix}${request.output.prefix.replace(/^\/+|\/+$/g, '')}/`.replace(/^\//, '')
    : `${source.prefix}${INTERNAL_DIR}jobs/${id}/`;
  const ready = countReadyConnected(core.sql);
  const spec: AggregateJobSpec = {
    source: { ...request.source, store: source.id },
    query: aggregateQuery(request),
    ...(request.orderBy ? { orderBy: request.orderBy } : {}),
    ...(request.limit ? { limit: request.limit } : {}),
    partitions: partitionCount(request, ready),
    output: { store: output.id, base },
  };
  const draft: JobDraft = {
    id,
    kind: 'aggregate',
    taskKind: 'aggregate-map',
    name: request.name ?? null,
    spec: spec as unknown as Record<string, unknown>,
    policy: resolvePolicy(request, 2),
    phase: 'map',
    tasks: [],
  };
  let listing: Listing;
  try {
    listing = await inputs(source, request);
  } catch (error) {
    if (error instanceof StoreError)
      return { draft, error: `cannot list the inputs: ${error.message}` };
    throw error;
  }
  const where = `s3://${source.bucket}/${source.prefix}${request.source.prefix ?? ''}`;
  const splits = planSplits(listing.objects, request.source.format, {
    splitBytes: core.config.splitBytes,
    slots: totalFreeSlots(freeWorkers(core)),
    minPartBytes: core.config.minPartBytes,
  });
  if (listing.more || splits.length > MAX_TASKS_PER_JOB) {
    const limit = `${MAX_TASKS_PER_JOB.toLocaleString('en')} input`;
    return {
      draft,
      error: `more than ${limit} objects or parts under ${where}; narrow source.prefix or source.paths`,
    };
  }
  if (splits.length === 0) return { draft, error: `no input objects under ${where}` };
  if (request.inlineIntermediates !== false) {
    const planned: AggregateJobSpec = {
      ...spec,
      inline: inlineAllowance(splits.length, spec.partitions),
    };
    draft.spec = planned as unknown as Record<string, unknown>;
  }
  const readers = lastReaders(core.sql, source.id, splits);
  draft.tasks = splits.map((input, index) => ({
    pinnedWorkerId: null,
    preferredWorkerId: readers[index] ?? null,
    spec: { step: 'map', input } satisfies AggregateTaskPart,
  }));
  return { draft, error: null };
}

function store(core: Core, idOrName: string, field: string): StoreRow {
  const row = findStore(core.sql, idOrName);
  if (!row)
    throw badRequest(
      `unknown object store "${idOrName}" in ${field}; register it with POST /v1/object-stores`,
    );
  return row;
}

/** The named objects, or the listing of the prefix without the Scheduler's own folders. */
async function inputs(source: StoreRow, request: AggregateJobRequest): Promise<Listing> {
  if (request.source.paths) {
    const objects = await Promise.all(
      request.source.paths.map((path) =>
        headObject(source, source.prefix + path.replace(/^\/+/, '')),
      ),
    );
    return { objects, more: false };
  }
  const prefix = request.source.prefix ?? '';
  const base = source.prefix + prefix;
  return listAll(source, prefix, {
    max: MAX_TASKS_PER_JOB,
    skipFolder: (key) => internalFolder(key, base),
  });
}
