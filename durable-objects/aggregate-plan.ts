/** Pure planning of an aggregation: input splits, partition count, attempt-keyed object names. */
import {
  MAX_INLINE_BYTES,
  type AggregateJobRequest,
  type AggregateQuery,
  type InputFormat,
  type InputSplit,
  type MapResult,
  type ObjectEntry,
} from '../protocol/index.ts';

/** Parquet files larger than this are split into parts by row groups, so work spreads evenly. */
export const DEFAULT_SPLIT_BYTES = 64 * 1024 * 1024;
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

/**
 * The Scheduler's folder that holds `key` (its key prefix through the first `_tm/` after `base`),
 * or null when the key is not one of the Scheduler's own.
 */
export function internalFolder(key: string, base = ''): string | null {
  if (!key.startsWith(base)) return null;
  const relative = key.slice(base.length);
  if (relative.startsWith(INTERNAL_DIR)) return base + INTERNAL_DIR;
  const at = relative.indexOf(`/${INTERNAL_DIR}`);
  return at < 0 ? null : base + relative.slice(0, at + 1 + INTERNAL_DIR.length);
}

/**
 * The smallest part a Parquet file is cut into to fill free map slots: below it, a task's fixed
 * cost (a round trip to the Scheduler, the footer's reads, one more partial to merge) outweighs
 * the work it takes off the others (see docs/aggregation.md, "Parts to fill the slots").
 */
export const DEFAULT_MIN_PART_BYTES = 8 * 1024 * 1024;

export interface SplitOptions {
  /** Parquet files larger than this are split into ⌈size / splitBytes⌉ parts (default 64 MiB). */
  splitBytes?: number;
  /** Free map slots: while the splits are fewer, Parquet files are cut into more parts (default 0). */
  slots?: number;
  /** No part cut to fill the slots is smaller than this (default 8 MiB). */
  minPartBytes?: number;
}

/**
 * One split per object, Parquet files above `splitBytes` in several parts, and more parts while
 * the splits are fewer than the free slots; folders and internals skipped.
 */
export function planSplits(
  objects: readonly ObjectEntry[],
  format: InputFormat,
  options: SplitOptions = {},
): InputSplit[] {
  const splitBytes = options.splitBytes ?? DEFAULT_SPLIT_BYTES;
  const inputs = objects.filter(
    (object) => !object.key.endsWith('/') && internalFolder(object.key) === null,
  );
  const sizes = inputs.map((object) => object.size);
  const parts =
    format === 'parquet'
      ? fillSlots(
          sizes,
          sizes.map((size) => Math.max(1, Math.ceil(size / splitBytes))),
          options.slots ?? 0,
          options.minPartBytes ?? DEFAULT_MIN_PART_BYTES,
        )
      : sizes.map(() => 1);
  return inputs.flatMap((object, at) => {
    const of = parts[at]!;
    return Array.from({ length: of }, (_, index) => ({
      key: object.key,
      size: object.size,
      ...(of > 1 ? { part: { index, of } } : {}),
      ...(object.etag ? { etag: object.etag } : {}),
    }));
  });
}

/**
 * Part counts for files of `sizes`, from `parts`: one more part at a time for the file whose parts
 * are largest, until there are `slots` parts in all or none could be cut without a part under
 * `minPartBytes`. Sizes only: the Scheduler reads no footer, so a part may get no row group (its
 * map reads none and returns nothing).
 */
export function fillSlots(
  sizes: readonly number[],
  parts: readonly number[],
  slots: number,
  minPartBytes: number,
): number[] {
  const filled = [...parts];
  let total = filled.reduce((count, of) => count + of, 0);
  for (; total < slots; total++) {
    let widest = -1;
    for (let at = 0; at < sizes.length; at++) {
      if (sizes[at]! / (filled[at]! + 1) < minPartBytes) continue;
      if (widest < 0 || sizes[at]! / filled[at]! > sizes[widest]! / filled[widest]!) widest = at;
    }
    if (widest < 0) break;
    filled[widest] = filled[widest]! + 1;
  }
  return filled;
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
/** Partition p's partial under a map attempt's prefix (the agent names it the same way). */
export const mapPartialKey = (prefix: string, partition: number) =>
  `${prefix}part-${partition}.arrow`;
/** Keyed by task, like the maps' partials: jobs that share an output prefix never share a name. */
export const reduceOutputKey = (base: string, taskId: string, attempt: number) =>
  `${base}reduce/${taskId}/attempt-${attempt}.arrow`;
/** Named by job: jobs that share an output prefix keep their own results. */
export const finalOutputKey = (base: string, jobId: string, attempt: number) =>
  `${base}result-${jobId}.attempt-${attempt}.arrow`;

/** Below this an allowance would not hold even a small partial (a schema is about 1 KiB): none is given. */
const MIN_INLINE_BYTES = 4096;

/**
 * How many bytes of outputs each map and each reduce may hand back inline. Shares of
 * MAX_INLINE_BYTES, so that what one reduce (or the final step) gets inline adds up to at most
 * that, whatever the number of maps: its spec stays well inside a frame.
 */
export function inlineAllowance(maps: number, partitions: number): { map: number; reduce: number } {
  const share = (writers: number) => {
    const bytes = Math.floor(MAX_INLINE_BYTES / Math.max(1, writers));
    return bytes >= MIN_INLINE_BYTES ? bytes : 0;
  };
  return { map: share(maps), reduce: share(partitions) };
}

/** Where the previous step put its outputs: stored objects' keys, and the inline ones. */
export interface StepInputs {
  inputs: string[];
  inline: string[];
}

/** Outputs (each stored or inline) as the next step's inputs. */
export function stepInputs(outputs: ReadonlyArray<{ key?: string; inline?: string }>): StepInputs {
  const inputs: string[] = [];
  const inline: string[] = [];
  for (const output of outputs) {
    if (output.inline !== undefined) inline.push(output.inline);
    else if (output.key !== undefined) inputs.push(output.key);
  }
  return { inputs, inline };
}

/** The partials of `partition` the committed map attempts wrote or handed back. */
export function reduceInputs(mapResults: readonly MapResult[], partition: number): StepInputs {
  return stepInputs(
    mapResults.flatMap((result) => result.partitions.filter((p) => p.index === partition)),
  );
}
