/** Kernel tests' harness: DuckDB writes the data and answers the SQL; the kernels run it as map, reduce and final tasks would. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DuckDBDateValue,
  DuckDBDecimalValue,
  DuckDBInstance,
  DuckDBTimestampMillisecondsValue,
  DuckDBTimestampNanosecondsValue,
  DuckDBTimestampSecondsValue,
  DuckDBTimestampTZValue,
  DuckDBTimestampValue,
  type DuckDBConnection,
  type DuckDBValue,
} from '@duckdb/node-api';
import {
  DataType,
  TimeUnit,
  tableFromIPC,
  tableToIPC,
  type RecordBatch,
  type Table,
  type Timestamp,
  type Vector,
} from 'apache-arrow';
import { readParquet } from 'parquet-wasm';
import { expect } from 'vitest';
import type { AggregateQuery, OrderBy } from '../../protocol/index.ts';
import {
  createMapAggregator,
  finalizeResult,
  mergePartitions,
  type MapPartial,
} from '../../worker-agent/aggregate/kernels/index.ts';

/** A value as results are compared: 64-bit integers as digit strings, dates `d:<days>`, timestamps `t:<ns>`. */
export type Cell = null | boolean | number | string;

export interface Oracle {
  /** Writes `SELECT ...` as a Parquet file `<name>.parquet` and returns its path. */
  write(name: string, select: string, rowGroupSize?: number): Promise<string>;
  rows(sql: string): Promise<Cell[][]>;
  close(): void;
}

const NANOS: Record<TimeUnit, bigint> = {
  [TimeUnit.SECOND]: 1_000_000_000n,
  [TimeUnit.MILLISECOND]: 1_000_000n,
  [TimeUnit.MICROSECOND]: 1000n,
  [TimeUnit.NANOSECOND]: 1n,
};

function duckCell(value: DuckDBValue): Cell {
  if (
    value === null ||
    typeof value === 'boolean' ||
    typeof value === 'number' ||
    typeof value === 'string'
  )
    return value;
  if (typeof value === 'bigint') return String(value);
  if (value instanceof DuckDBDateValue) return `d:${value.days}`;
  if (value instanceof DuckDBTimestampValue || value instanceof DuckDBTimestampTZValue)
    return `t:${value.micros * 1000n}`;
  if (value instanceof DuckDBTimestampSecondsValue) return `t:${value.seconds * 1_000_000_000n}`;
  if (value instanceof DuckDBTimestampMillisecondsValue) return `t:${value.millis * 1_000_000n}`;
  if (value instanceof DuckDBTimestampNanosecondsValue) return `t:${value.nanos}`;
  if (value instanceof DuckDBDecimalValue) return Number(value.value) / 10 ** value.scale;
  throw new Error(`unexpected DuckDB value ${String(value)}`);
}

export async function createOracle(): Promise<Oracle> {
  const dir = mkdtempSync(join(tmpdir(), 'tm-kernels-'));
  const instance = await DuckDBInstance.create(':memory:');
  const db: DuckDBConnection = await instance.connect();
  return {
    async write(name, select, rowGroupSize = 10_000) {
      const path = join(dir, `${name}.parquet`);
      await db.run(
        `COPY (${select}) TO '${path}' (FORMAT parquet, ROW_GROUP_SIZE ${rowGroupSize})`,
      );
      return path;
    },
    async rows(sql) {
      const reader = await db.runAndReadAll(sql);
      return reader.getRows().map((row) => row.map(duckCell));
    },
    close() {
      db.closeSync();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A Parquet file's rows as Arrow record batches, as the Parquet reader yields them. */
export function readBatches(path: string, batchSize = 4096): RecordBatch[] {
  return tableFromIPC(readParquet(readFileSync(path), { batchSize }).intoIPCStream()).batches;
}

function arrowCell(vector: Vector, index: number): Cell {
  if (!vector.isValid(index)) return null;
  const type = vector.type as DataType;
  if (DataType.isDate(type) || DataType.isTimestamp(type)) {
    let chunk = 0;
    let local = index;
    while (local >= vector.data[chunk]!.length) local -= vector.data[chunk++]!.length;
    const raw = (vector.data[chunk]!.values as Int32Array | BigInt64Array)[local]!;
    if (DataType.isTimestamp(type)) return `t:${BigInt(raw) * NANOS[(type as Timestamp).unit]}`;
    return `d:${typeof raw === 'bigint' ? Number(raw / 86_400_000n) : raw}`;
  }
  const value: unknown = vector.get(index);
  if (typeof value === 'bigint') return String(value);
  if (
    value === null ||
    typeof value === 'boolean' ||
    typeof value === 'number' ||
    typeof value === 'string'
  )
    return value;
  throw new Error(`unexpected Arrow value of ${String(type)}`);
}

/** A table's rows as cells, in the table's order. */
export function tableCells(table: Table): Cell[][] {
  const columns = table.schema.fields.map((_, i) => table.getChildAt(i)!);
  return Array.from({ length: table.numRows }, (_, row) =>
    columns.map((column) => arrowCell(column, row)),
  );
}

export interface RunOptions {
  maps?: number;
  partitions?: number;
  orderBy?: OrderBy[];
  limit?: number;
}

export interface Run {
  result: Table;
  /** What each map task emitted. */
  partials: MapPartial[][];
  rowsMatched: number;
}

/** Tables cross the wire as Arrow IPC files between tasks. */
const wire = (table: Table): Table => tableFromIPC(tableToIPC(table, 'file'));

/**
 * Runs `query` as the scheduler would: batches (cut into uneven slices) dealt to `maps` map tasks,
 * each partition's partials merged by its reduce task, the reduce outputs finalized.
 */
export function runAggregation(
  query: AggregateQuery,
  batches: readonly RecordBatch[],
  options: RunOptions = {},
): Run {
  const maps = Array.from({ length: options.maps ?? 3 }, () =>
    createMapAggregator(query, options.partitions ?? 4),
  );
  let turn = 0;
  let rowsMatched = 0;
  for (const batch of batches) {
    const cut = Math.max(1, Math.floor(batch.numRows * 0.37));
    const slices = batch.numRows > 1 ? [batch.slice(0, cut), batch.slice(cut)] : [batch];
    for (const slice of slices) rowsMatched += maps[turn++ % maps.length]!.add(slice).rowsMatched;
  }
  const partials = maps.map((map) =>
    map.finish().map((partial) => ({ ...partial, table: wire(partial.table) })),
  );
  const reduced: Table[] = [];
  for (let partition = 0; partition < (options.partitions ?? 4); partition++) {
    const inputs = partials.flatMap((list) =>
      list.filter((partial) => partial.partition === partition).map((partial) => partial.table),
    );
    reduced.push(wire(mergePartitions(query, inputs)));
  }
  return {
    result: wire(finalizeResult(reduced, options.orderBy, options.limit)),
    partials,
    rowsMatched,
  };
}

export const aggregateQuery = (
  query: Partial<AggregateQuery> & Pick<AggregateQuery, 'aggregates'>,
): AggregateQuery => ({
  filter: [],
  groupBy: [],
  ...query,
});

function close(a: Cell, b: Cell): boolean {
  if (typeof a !== 'number' || typeof b !== 'number') return a === b;
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b);
  return Math.abs(a - b) <= 1e-9 * Math.max(Math.abs(a), Math.abs(b)) + 1e-12;
}

const sortKey = (row: Cell[], keys: number) => JSON.stringify(row.slice(0, keys));

/**
 * Expects the same rows (floats within a relative 1e-9); unordered results are sorted on their first
 * `keys` columns (the group-by columns) first.
 */
export function expectSameRows(
  ours: Cell[][],
  theirs: Cell[][],
  keys: number,
  ordered = false,
): void {
  const sort = (rows: Cell[][]) =>
    ordered ? rows : [...rows].sort((a, b) => (sortKey(a, keys) < sortKey(b, keys) ? -1 : 1));
  const mine = sort(ours);
  const expected = sort(theirs);
  // Floats that agree within the tolerance take the oracle's value, so a failure shows real differences.
  const aligned = mine.map((row, r) =>
    row.map((cell, c) => (close(cell, expected[r]?.[c] ?? null) ? expected[r]![c]! : cell)),
  );
  // (Large results compare as JSON first: a deep diff is only worth its cost when something differs.)
  const json = (rows: Cell[][]) =>
    JSON.stringify(rows, (_key, value: unknown) =>
      typeof value === 'number' && !Number.isFinite(value) ? String(value) : value,
    );
  if (json(aligned) !== json(expected)) expect(aligned).toEqual(expected);
  expect(aligned.length).toBe(expected.length);
}

/** Runs `query` over `input` and expects DuckDB's answer to `sql` over the Parquet file `path` (as `data`). */
export async function expectOracle(
  oracle: Oracle,
  path: string,
  query: AggregateQuery,
  sql: string,
  input: readonly RecordBatch[],
  options: RunOptions = {},
): Promise<Run> {
  const run = runAggregation(query, input, options);
  const expected = await oracle.rows(`WITH data AS (SELECT * FROM read_parquet('${path}')) ${sql}`);
  expectSameRows(tableCells(run.result), expected, query.groupBy.length);
  return run;
}
