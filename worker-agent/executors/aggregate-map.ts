/** Map step of an aggregation: read one split in batches, aggregate per radix partition, write partials. */
import { tableToIPC } from 'apache-arrow';
import type { AggregateQuery, MapResult } from '../../protocol/index.ts';
import type { Executor, MapSpec } from '../task-outcome.ts';
import { createMapAggregator } from '../aggregate/kernels/index.ts';
import { readSplit } from '../aggregate/readers/index.ts';
import type { OpenStore } from '../storage/index.ts';
import { dataFailure } from './data-failure.ts';

export const ARROW_FILE = 'application/vnd.apache.arrow.file';

export function mapExecutor(options: { tempDir: string; openStore: OpenStore }): Executor<MapSpec> {
  return async ({ spec, signal, started, progress }) => {
    started();
    const { input } = spec;
    const where = `input ${input.key}${input.part ? ` (part ${input.part.index + 1} of ${input.part.of})` : ''}`;
    const figures = { rowsRead: 0, bytesRead: 0, bytesCached: 0, rowsMatched: 0 };
    const source = options.openStore(spec.source);
    const output = options.openStore(spec.output);
    try {
      const aggregator = createMapAggregator(spec.query, spec.partitions);
      const batches = readSplit(source, input, spec.format, {
        columns: queryColumns(spec.query),
        tempDir: options.tempDir,
        signal,
        onProgress: (read) => {
          figures.rowsRead = read.rowsRead;
          figures.bytesRead = read.bytesRead;
          progress(read);
        },
      });
      for await (const batch of batches) figures.rowsMatched += aggregator.add(batch).rowsMatched;
      const partitions: MapResult['partitions'] = [];
      for (const { partition, table, groups } of aggregator.finish()) {
        const key = `${spec.outputPrefix}part-${partition}.arrow`;
        await output.put(key, tableToIPC(table, 'file'), ARROW_FILE, { signal });
        partitions.push({ index: partition, key, groups });
      }
      const result: MapResult = { ...figures, partitions };
      return { ok: true, result };
    } catch (error) {
      return dataFailure(error, signal, where);
    } finally {
      source.close();
      output.close();
    }
  };
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
