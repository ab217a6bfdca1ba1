/**
 * bench:codecs: one map task over the same rows in each Parquet codec, without the cluster. DuckDB
 * writes 3M rows (INT64 columns and dictionary-encoded strings, 500k-row row groups) once per
 * codec; each file is read from memory, filtered, aggregated and cut into partials on one thread,
 * as an agent's map thread does, and timed beside the Snappy file. The peer is DuckDB on one
 * thread, the same query over the same file. Each file's answer (count, sums, min/max, count
 * distinct) is checked against DuckDB's before it is timed.
 * Run with `node --import tsx/esm`, as agents load the code (see bench/map.ts).
 */
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { tableToIPC, type Table } from 'apache-arrow';
import { repoRoot } from '../cli/local/repo.ts';
import { AggregateQuery } from '../protocol/index.ts';
import { queryColumns } from '../worker-agent/executors/aggregate-map.ts';
import {
  createMapAggregator,
  finalizeResult,
  mergePartitions,
} from '../worker-agent/aggregate/kernels/index.ts';
import { readSplit } from '../worker-agent/aggregate/readers/index.ts';
import { memoryStore } from './lib/memory-store.ts';
import { percentile } from './lib/stats.ts';

const ROWS = Number(process.env.BENCH_ROWS ?? 3_000_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const PARTITIONS = 4;
/** DuckDB's COMPRESSION names; its `lz4` writes LZ4_RAW pages (it writes no Hadoop LZ4). */
const CODECS = ['snappy', 'zstd', 'gzip', 'brotli', 'lz4', 'uncompressed'];

const SQL = `SELECT i::BIGINT AS id, (hash(i) % 100000)::BIGINT AS price,
  (1 + hash(i * 7) % 20)::BIGINT AS quantity,
  'region-' || (hash(i * 3) % 9) AS region, 'product-' || (hash(i * 5) % 1000) AS product
  FROM range(${ROWS}) t(i)`;

const QUERY = AggregateQuery.parse({
  groupBy: ['region'],
  filter: [{ column: 'quantity', op: '>=', value: 3 }],
  aggregates: [
    { op: 'count' },
    { op: 'sum', column: 'price' },
    { op: 'min', column: 'price' },
    { op: 'max', column: 'id' },
    { op: 'count_distinct', column: 'product' },
  ],
});
const QUERY_SQL = `SELECT region, count(*), sum(price), min(price), max(id), count(DISTINCT product)
  FROM data WHERE quantity >= 3 GROUP BY region`;

/** The data set in each codec, written once and kept under .tm/bench-data/. */
async function ensureFiles(db: DuckDBConnection): Promise<Map<string, string>> {
  const dir = join(repoRoot, '.tm', 'bench-data', `codecs-${ROWS}`);
  mkdirSync(dir, { recursive: true });
  const paths = new Map<string, string>();
  for (const codec of CODECS) {
    const path = join(dir, `${codec}.parquet`);
    if (!existsSync(path)) {
      const started = performance.now();
      await db.run(
        `COPY (${SQL}) TO '${path}.partial' (FORMAT parquet, COMPRESSION ${codec}, ROW_GROUP_SIZE 500000)`,
      );
      renameSync(`${path}.partial`, path);
      console.log(`  wrote ${path} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    }
    paths.set(codec, path);
  }
  return paths;
}

/** Our map over `bytes` (as the file `key`): its partials, whose IPC encoding is part of the work. */
async function mapFile(key: string, bytes: Uint8Array) {
  const aggregator = createMapAggregator(QUERY, PARTITIONS);
  const options = { columns: queryColumns(QUERY), reuseBuffers: true, tempDir: tmpdir() };
  const store = memoryStore(new Map([[key, bytes]]));
  for await (const batch of readSplit(store, { key, size: bytes.length }, 'parquet', options)) {
    aggregator.add(batch);
  }
  return aggregator.finish();
}

/** Milliseconds of each round of our map over the file, sorted; the first round warms the JIT. */
async function ourTimes(key: string, bytes: Uint8Array): Promise<number[]> {
  const times: number[] = [];
  for (let round = 0; round < ROUNDS + 1; round++) {
    const started = performance.now();
    for (const { table } of await mapFile(key, bytes)) tableToIPC(table, 'file');
    if (round > 0) times.push(performance.now() - started);
  }
  return times.sort((a, b) => a - b);
}

async function duckdbTimes(db: DuckDBConnection, path: string): Promise<number[]> {
  const times: number[] = [];
  for (let round = 0; round < ROUNDS + 1; round++) {
    const started = performance.now();
    await db.runAndReadAll(`WITH data AS (SELECT * FROM read_parquet('${path}')) ${QUERY_SQL}`);
    if (round > 0) times.push(performance.now() - started);
  }
  return times.sort((a, b) => a - b);
}

/** Rows as sorted strings, numbers compared as numbers (every figure here is exact in a double). */
const normalized = (rows: unknown[][]) =>
  rows
    .map((row) => row.map((cell) => (typeof cell === 'string' ? cell : String(Number(cell)))))
    .map((row) => row.join('|'))
    .sort();

const tableRows = (table: Table) => table.toArray().map((row) => Object.values(row.toJSON()));

/** Throws unless our answer over the file is DuckDB's. */
async function checkAnswer(db: DuckDBConnection, codec: string, path: string, bytes: Uint8Array) {
  const partials = await mapFile(codec, bytes);
  const merged = Array.from({ length: PARTITIONS }, (_, partition) =>
    mergePartitions(
      QUERY,
      partials.filter((p) => p.partition === partition).map((p) => p.table),
    ),
  );
  const ours = normalized(tableRows(finalizeResult(merged)));
  const reader = await db.runAndReadAll(
    `WITH data AS (SELECT * FROM read_parquet('${path}')) ${QUERY_SQL}`,
  );
  const theirs = normalized(reader.getRows());
  if (ours.join('\n') !== theirs.join('\n')) {
    throw new Error(
      `${codec}: our answer differs from DuckDB's\n${ours.join('\n')}\n--\n${theirs.join('\n')}`,
    );
  }
}

async function main(): Promise<void> {
  const db = await (await DuckDBInstance.create(':memory:')).connect();
  const paths = await ensureFiles(db);
  await db.run('SET threads = 1');
  console.log(
    `bench:codecs — one thread, ${ROWS.toLocaleString('en')} rows in 500k-row groups, one file per codec from memory, ${ROUNDS} rounds`,
  );
  const header = ['codec', 'MB', 'ours, ms', '× Snappy', 'DuckDB, ms', 'ours / DuckDB'];
  console.log(`\n${header.map((h, i) => (i ? h.padStart(14) : h.padEnd(13))).join('')}`);
  let snappy = NaN;
  for (const codec of CODECS) {
    const path = paths.get(codec)!;
    const bytes = new Uint8Array(readFileSync(path));
    await checkAnswer(db, codec, path, bytes);
    const ours = percentile(await ourTimes(codec, bytes), 50);
    const duck = percentile(await duckdbTimes(db, path), 50);
    if (codec === 'snappy') snappy = ours;
    const cells = [
      (bytes.length / 1e6).toFixed(1),
      ours.toFixed(0),
      `${(ours / snappy).toFixed(2)}×`,
      duck.toFixed(0),
      `${(ours / duck).toFixed(2)}×`,
    ];
    console.log(`${codec.padEnd(13)}${cells.map((cell) => cell.padStart(14)).join('')}`);
  }
  console.log("\n(medians; the answer over every file was checked against DuckDB's first)");
  db.closeSync();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
