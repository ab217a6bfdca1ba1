/** Pure planning of an aggregation: input splits, partition count, attempt-keyed object names. */
import type {
  AggregateJobRequest,
  AggregateQuery,
  InputFormat,
  InputSplit,
  MapResult,
  ObjectEntry,
} from '../protocol/index.ts';

/** Parquet files larger than this are split into parts by row groups, so work spreads evenly. */
export const SPLIT_BYTES = 64 * 1024 * 1024;
/** Scheduler-owned objects live under this folder of a store; planning never reads them as input. */
export const INTERNAL_DIR = '_tm/';

/** The query every map, reduce and final task shares. */
export function aggregateQuery(request: AggregateJobRequest): AggregateQuery {
  return {
    filter: request.filter ?? [],
    groupBy: request.groupBy ?? [],
    aggregates: request.aggregates,
  };
}

/** One split per object, Parquet files above SPLIT_BYTES in several parts; folders and internals skipped. */
export function planSplits(objects: readonly ObjectEntry[], format: InputFormat): InputSplit[] {
  const splits: InputSplit[] = [];
  for (const object of objects) {
    if (object.key.endsWith('/') || object.key.split('/').includes(INTERNAL_DIR.slice(0, -1)))
      continue;
    const parts = format === 'parquet' ? Math.max(1, Math.ceil(object.size / SPLIT_BYTES)) : 1;
    for (let index = 0; index < parts; index++) {
      splits.push({
        key: object.key,
        size: object.size,
        ...(parts > 1 ? { part: { index, of: parts } } : {}),
        ...(object.etag ? { etag: object.etag } : {}),
      });
    }
  }
  return splits;
}

/**
 * What names a split across jobs, for locality: the store, the object's version and the part.
 * Null without an ETag: an object that may have changed cannot be known to be cached.
 */
export function splitIdentity(storeId: string, split: InputSplit): string | null {
  if (!split.etag) return null;
  const part = split.part ? `${split.part.index}/${split.part.of}` : 'whole';
  return JSON.stringify([storeId, split.key, split.etag, split.size, part]);
}

/** Reduce partitions: as asked, else one without grouping, else two per ready worker (1..64). */
export function partitionCount(request: AggregateJobRequest, readyWorkers: number): number {
  if (request.partitions) return request.partitions;
  if ((request.groupBy ?? []).length === 0) return 1;
  return Math.min(64, Math.max(1, 2 * readyWorkers));
}

export const mapOutputPrefix = (base: string, taskId: string, attempt: number) =>
  `${base}map/${taskId}/attempt-${attempt}/`;
/** Keyed by task, like the maps' partials: jobs that share an output prefix never share a name. */
export const reduceOutputKey = (base: string, taskId: string, attempt: number) =>
  `${base}reduce/${taskId}/attempt-${attempt}.arrow`;
/** Named by job: jobs that share an output prefix keep their own results. */
export const finalOutputKey = (base: string, jobId: string, attempt: number) =>
  `${base}result-${jobId}.attempt-${attempt}.arrow`;

/** The partials of `partition` written by the committed map attempts. */
export function reduceInputs(mapResults: readonly MapResult[], partition: number): string[] {
  return mapResults.flatMap((result) =>
    result.partitions.filter((p) => p.index === partition).map((p) => p.key),
  );
}
