/** Map step of an aggregation: read one split in batches, aggregate per radix partition, write partials. */
import { tableToIPC } from 'apache-arrow';
import type { AggregateQuery, InputSplit, MapResult } from '../../protocol/index.ts';
import type { Executor, MapSpec } from '../task-outcome.ts';
import { createMapAggregator } from '../aggregate/kernels/index.ts';
import { readSplit } from '../aggregate/readers/index.ts';
import {
  cachedStore,
  pinnedStore,
  type BlockCache,
  type CachedStore,
  type ObjectStore,
  type OpenStore,
} from '../storage/index.ts';
import { dataFailure } from './data-failure.ts';
import { InlineBudget } from './inline-outputs.ts';

export const ARROW_FILE = 'application/vnd.apache.arrow.file';

export interface MapOptions {
  tempDir: string;
  openStore: OpenStore;
  /** Serves inputs read before (same object version) from local disk; none: always the store. */
  cache?: BlockCache | null;
}

export function mapExecutor(options: MapOptions): Executor<MapSpec> {
  return async ({ spec, signal, started, progress }) => {
    started();
    const { input } = spec;
    const where = `input ${input.key}${input.part ? ` (part ${input.part.index + 1} of ${input.part.of})` : ''}`;
    const figures = { rowsRead: 0, bytesRead: 0, bytesCached: 0, rowsMatched: 0 };
    const listed = { size: input.size, ...(input.etag ? { etag: input.etag } : {}) };
    const store = options.openStore(spec.source, {
      get: new Map([[input.key, spec.inputUrl]]),
      sizes: new Map([[input.key, listed]]),
    });
    const source = inputStore(store, input, options.cache ?? null);
    const output = options.openStore(spec.output, {
      put: new Map(spec.outputUrls.map((url, p) => [partialKey(spec.outputPrefix, p), url])),
    });
    try {
      const aggregator = createMapAggregator(spec.query, spec.partitions);
      const batches = readSplit(source, input, spec.format, {
        columns: queryColumns(spec.query),
        // The aggregator keeps nothing of a batch (see MapAggregator.add).
        reuseBuffers: true,
        tempDir: options.tempDir,
        signal,
        onProgress: (read) => {
          figures.rowsRead = read.rowsRead;
          figures.bytesRead = read.bytesRead;
          figures.bytesCached = source.counters.bytesCached;
          progress({ ...read, bytesCached: figures.bytesCached });
        },
      });
      for await (const batch of batches) figures.rowsMatched += aggregator.add(batch).rowsMatched;
      const partitions: MapResult['partitions'] = [];
      const inline = new InlineBudget(spec.inlineBytes ?? 0);
      for (const { partition, table, groups } of aggregator.finish()) {
        const bytes = tableToIPC(table, 'file');
        const held = inline.take(bytes);
        if (held !== null) {
          partitions.push({ index: partition, groups, inline: held });
          continue;
        }
        const key = partialKey(spec.outputPrefix, partition);
        await output.put(key, bytes, ARROW_FILE, { signal });
        partitions.push({ index: partition, key, groups });
      }
      await options.cache?.trimIfDue();
      const result: MapResult = { ...figures, partitions };
      return { ok: true, result };
    } catch (error) {
      return dataFailure(error, signal, where);
    } finally {
      store.close();
      output.close();
    }
  };
}

/** Partition p's partial under the attempt's prefix: the name the Scheduler signed a PUT for. */
const partialKey = (prefix: string, partition: number) => `${prefix}part-${partition}.arrow`;

/** The split's store: pinned to the planned version when it is known, through the cache if any. */
function inputStore(store: ObjectStore, input: InputSplit, cache: BlockCache | null): CachedStore {
  if (!input.etag) return { ...store, counters: { bytesCached: 0 } };
  const planned = { key: input.key, size: input.size, etag: input.etag };
  return cache ? cachedStore(store, cache, planned) : pinnedStore(store, planned);
}

/** Every column the query reads: group keys, filtered columns, aggregated columns. */
export function queryColumns(query: AggregateQuery): string[] {
  const columns = [
    ...query.groupBy,
    ...query.filter.map((filter) => filter.column),
    ...query.aggregates.flatMap((aggregate) => (aggregate.column ? [aggregate.column] : [])),
  ];
  return [...new Set(columns)];
}
