/**
 * bench:map: the CPU of one map task, without the cluster: each 1M-row Parquet file of the sales
 * data set read from memory, filtered, aggregated and cut into partials on one thread, as an
 * agent's map thread does. The peer is DuckDB on one thread, the same query over the same file.
 * Run with `node --import tsx/esm`, as agents load the code: the tsx CLI's preflight slows V8's
 * hot loops by ~13% on this code.
 */
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { DuckDBInstance } from '@duckdb/node-api';
import { tableToIPC } from 'apache-arrow';
import { AggregateQuery } from '../protocol/index.ts';
import { queryColumns } from '../worker-agent/executors/aggregate-map.ts';
import { createMapAggregator } from '../worker-agent/aggregate/kernels/index.ts';
import { readSplit } from '../worker-agent/aggregate/readers/index.ts';
import { memoryStore } from './lib/memory-store.ts';
import { ensureSalesDataset } from './lib/sales-dataset.ts';
import { QUERIES, type Query } from './lib/sales-queries.ts';
import { percentile } from './lib/stats.ts';

const FILES = Number(process.env.BENCH_FILES ?? 10);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const PARTITIONS = 4;

/** Milliseconds per file of each round of our map over every file. */
async function mapTimes(query: Query, files: ReadonlyMap<string, Uint8Array>): Promise<number[]> {
  const parsed = AggregateQuery.parse({ filter: [], ...query.request });
  const store = memoryStore(files);
  const times: number[] = [];
  for (let round = 0; round < ROUNDS + 1; round++) {
    const started = performance.now();
    for (const [key, bytes] of files) {
      const aggregator = createMapAggregator(parsed, PARTITIONS);
      const split = { key, size: bytes.length };
      const options = { columns: queryColumns(parsed), reuseBuffers: true, tempDir: tmpdir() };
      for await (const batch of readSplit(store, split, 'parquet', options)) aggregator.add(batch);
      for (const { table } of aggregator.finish()) tableToIPC(table, 'file');
    }
    // The first round warms the JIT, as an agent's first maps do.
    if (round > 0) times.push((performance.now() - started) / files.size);
  }
  return times.sort((a, b) => a - b);
}

/** Milliseconds per file of each round of DuckDB, one thread, the query over one file at a time. */
async function duckdbTimes(query: Query, paths: readonly string[]): Promise<number[]> {
  const connection = await (await DuckDBInstance.create(':memory:')).connect();
  await connection.run('SET threads = 1');
  const times: number[] = [];
  for (let round = 0; round < ROUNDS + 1; round++) {
    const started = performance.now();
    for (const path of paths) {
      await connection.runAndReadAll(
        `WITH data AS (SELECT * FROM read_parquet('${path}')) ${query.sql}`,
      );
    }
    if (round > 0) times.push((performance.now() - started) / paths.length);
  }
  connection.closeSync();
  return times.sort((a, b) => a - b);
}

async function main(): Promise<void> {
  const dataset = ensureSalesDataset(FILES, 1_000_000);
  const files = new Map(dataset.files.map((path) => [path, new Uint8Array(readFileSync(path))]));
  console.log(
    `bench:map — one thread, ${FILES} Parquet files × 1,000,000 rows from memory, ${ROUNDS} rounds`,
  );
  console.log(
    `\n${'query'.padEnd(40)}  ${'ours, ms per file'.padStart(18)}  ${'DuckDB, 1 thread'.padStart(18)}  ratio`,
  );
  console.log(
    `${''.padEnd(40)}  ${'(median / best)'.padStart(18)}  ${'(median / best)'.padStart(18)}`,
  );
  const figures = (times: number[]) =>
    `${percentile(times, 50).toFixed(1)} / ${times[0]!.toFixed(1)}`.padStart(18);
  for (const query of QUERIES) {
    const ours = await mapTimes(query, files);
    const duck = await duckdbTimes(query, dataset.files);
    const ratio = percentile(ours, 50) / percentile(duck, 50);
    console.log(
      `${query.name.padEnd(40)}  ${figures(ours)}  ${figures(duck)}  ${ratio.toFixed(1)}×`,
    );
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
