/**
 * Test data sets written by DuckDB (Parquet, CSV, and Arrow IPC converted from the Parquet), uploaded
 * to a store, plus DuckDB as the oracle and one normalized row shape to compare results in.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DuckDBDateValue,
  DuckDBDecimalValue,
  DuckDBInstance,
  DuckDBTimestampValue,
  type DuckDBConnection,
  type DuckDBValue,
} from '@duckdb/node-api';
import {
  DataType,
  TimeUnit,
  tableFromIPC,
  tableToIPC,
  util,
  type Decimal,
  type RecordBatch,
  type Timestamp,
  type Vector,
} from 'apache-arrow';
import { readParquet } from 'parquet-wasm';
import type { InputFormat } from '../../protocol/aggregate.ts';
import type { ObjectStore } from '../../worker-agent/storage/index.ts';

/** A value as tests compare it: 64-bit integers and decimals as strings, dates and timestamps as ISO text. */
export type Normalized = string | number | boolean | null;
export type Row = Record<string, Normalized>;

export interface DatasetFile {
  format: InputFormat;
  /** Object key in the store. */
  key: string;
  /** The local copy. */
  path: string;
  rows: number;
  /** Arrow IPC only: which of its two formats the file is written in. */
  ipc?: 'file' | 'stream';
}

export interface Datasets {
  /** Local root: `<dir>/parquet/*.parquet`, `<dir>/csv/*.csv`, `<dir>/arrow/*.arrow`. */
  dir: string;
  /** Key prefix in the store (ends with `/`): objects are `<prefix><format>/part-<n>.<ext>`. */
  prefix: string;
  files: DatasetFile[];
  /** Rows per format (every format holds the same rows). */
  totalRows: number;
  /** The DuckDB glob over the local copies of one format, e.g. `read_parquet('${glob('parquet')}')`. */
  glob(format: InputFormat): string;
  /** Removes the local copies (not the uploaded objects). */
  cleanup(): Promise<void>;
}

export interface DatasetOptions {
  /** Where to upload; without one the files are only written locally. */
  store?: ObjectStore;
  /** Key prefix (default `datasets/`). */
  prefix?: string;
  files?: number;
  /** Default 25,000: more than DuckDB's 20,480-row CSV sample, so later rows are checked too. */
  rowsPerFile?: number;
  /** Parquet row group size (default 10,000; DuckDB rounds it up to a multiple of 2,048). */
  rowGroupSize?: number;
}

const EXTENSION: Record<InputFormat, string> = { parquet: 'parquet', csv: 'csv', arrow: 'arrow' };

/** The columns: int64 keys with extremes, low/high-cardinality strings with NULLs (and CSV-hostile text), etc. */
export function datasetSql(first: number, rows: number): string {
  return `SELECT
    i AS id,
    (CASE WHEN i % 50 = 0 THEN 9223372036854775807 WHEN i % 50 = 1 THEN -9223372036854775808
          ELSE (i % 1000) - 500 END)::BIGINT AS k,
    CASE WHEN i % 11 = 0 THEN NULL ELSE 'cat-' || (i % 7) END AS category,
    CASE WHEN i % 13 = 0 THEN NULL
         WHEN i % 29 = 0 THEN 'say "hi", then' || chr(10) || 'a new line ' || i
         ELSE md5(i::VARCHAR) END AS tag,
    CASE WHEN i % 17 = 0 THEN NULL ELSE (i * 0.37 - 5000) / 7 END::DOUBLE AS v,
    (i % 1000)::INTEGER AS n,
    CASE WHEN i % 19 = 0 THEN NULL ELSE i % 3 = 0 END AS flag,
    DATE '2020-01-01' + (i % 2000)::INTEGER AS day,
    TIMESTAMP '2021-01-01 00:00:00' + to_microseconds(i * 1000003) AS ts,
    CASE WHEN i % 23 = 0 THEN NULL ELSE ((i % 200000) - 100000) / 100 END::DECIMAL(12,2) AS price
  FROM range(${first}, ${first + rows}) r(i)`;
}

let connection: Promise<DuckDBConnection> | undefined;

/** One in-memory DuckDB per test process. */
export function duckdb(): Promise<DuckDBConnection> {
  connection ??= DuckDBInstance.create(':memory:').then((instance) => instance.connect());
  return connection;
}

/** Writes the data sets locally with DuckDB and uploads them when a store is given. */
export async function createDatasets(options: DatasetOptions = {}): Promise<Datasets> {
  const files = options.files ?? 3;
  const rowsPerFile = options.rowsPerFile ?? 25_000;
  const prefix = options.prefix ?? 'datasets/';
  const dir = await mkdtemp(join(tmpdir(), 'tm-datasets-'));
  const db = await duckdb();
  const written: DatasetFile[] = [];
  for (const format of ['parquet', 'csv', 'arrow'] as const) await mkdir(join(dir, format));
  for (let n = 0; n < files; n++) {
    const name = (format: InputFormat) => `${format}/part-${n}.${EXTENSION[format]}`;
    const sql = datasetSql(n * rowsPerFile, rowsPerFile);
    const parquet = join(dir, name('parquet'));
    await db.run(
      `COPY (${sql}) TO '${parquet}' (FORMAT parquet, ROW_GROUP_SIZE ${options.rowGroupSize ?? 10_000})`,
    );
    await db.run(`COPY (${sql}) TO '${join(dir, name('csv'))}' (FORMAT csv, HEADER)`);
    // DuckDB writes no Arrow IPC offline: convert the Parquet, in several batches, alternating formats.
    const ipc = n % 2 === 0 ? 'file' : 'stream';
    const table = tableFromIPC(
      readParquet(await readFile(parquet), { batchSize: 4096 }).intoIPCStream(),
    );
    await writeFile(join(dir, name('arrow')), tableToIPC(table, ipc));
    for (const format of ['parquet', 'csv', 'arrow'] as const) {
      written.push({
        format,
        key: `${prefix}${name(format)}`,
        path: join(dir, name(format)),
        rows: rowsPerFile,
        ...(format === 'arrow' ? { ipc } : {}),
      });
    }
  }
  if (options.store) {
    for (const file of written) await options.store.put(file.key, await readFile(file.path));
  }
  return {
    dir,
    prefix,
    files: written,
    totalRows: files * rowsPerFile,
    glob: (format) => join(dir, format, `*.${EXTENSION[format]}`),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

const pad = (value: number | bigint, width: number) => String(value).padStart(width, '0');

function isoDate(days: number): string {
  return new Date(days * 86_400_000).toISOString().slice(0, 10);
}

/** `YYYY-MM-DDTHH:MM:SS.ffffff` (UTC, no zone) of microseconds since the epoch. */
export function isoTimestamp(micros: bigint): string {
  const seconds = micros >= 0n ? micros / 1_000_000n : -((-micros + 999_999n) / 1_000_000n);
  const fraction = micros - seconds * 1_000_000n;
  return `${new Date(Number(seconds) * 1000).toISOString().slice(0, 19)}.${pad(fraction, 6)}`;
}

export function decimalString(unscaled: bigint, scale: number): string {
  const negative = unscaled < 0n;
  const digits = pad(negative ? -unscaled : unscaled, scale + 1);
  const text = scale === 0 ? digits : `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
  return negative ? `-${text}` : text;
}

function normalizeDuckdb(value: DuckDBValue): Normalized {
  if (
    value === null ||
    typeof value === 'string' ||
    typeof value === 'boolean' ||
    typeof value === 'number'
  ) {
    return value;
  }
  if (typeof value === 'bigint') return String(value);
  if (value instanceof DuckDBDateValue) return isoDate(value.days);
  if (value instanceof DuckDBTimestampValue) return isoTimestamp(value.micros);
  if (value instanceof DuckDBDecimalValue) return decimalString(value.value, value.scale);
  return String(value);
}

/** Runs SQL in DuckDB; rows as objects of normalized values, in DuckDB's order. */
export async function duckdbRows(sql: string): Promise<Row[]> {
  const reader = await (await duckdb()).runAndReadAll(sql);
  return reader.getRowObjects().map((row) => {
    const out: Row = {};
    for (const [name, value] of Object.entries(row)) out[name] = normalizeDuckdb(value);
    return out;
  });
}

const TO_MICROS: Record<TimeUnit, (v: bigint) => bigint> = {
  [TimeUnit.SECOND]: (v) => v * 1_000_000n,
  [TimeUnit.MILLISECOND]: (v) => v * 1000n,
  [TimeUnit.MICROSECOND]: (v) => v,
  [TimeUnit.NANOSECOND]: (v) => v / 1000n,
};

function normalizeArrow(vector: Vector, index: number): Normalized {
  if (!vector.isValid(index)) return null;
  const type = vector.type as DataType;
  if (DataType.isTimestamp(type)) {
    const data = vector.data[0]!;
    const raw = (data.values as BigInt64Array)[data.offset + index]!;
    return isoTimestamp(TO_MICROS[(type as Timestamp).unit](BigInt(raw)));
  }
  const value: unknown = vector.get(index);
  if (DataType.isDate(type)) return isoDate(Math.floor(Number(value) / 86_400_000));
  if (DataType.isDecimal(type)) {
    return decimalString(
      util.bigNumToBigInt(value as Parameters<typeof util.bigNumToBigInt>[0]),
      (type as Decimal).scale,
    );
  }
  if (typeof value === 'bigint') return String(value);
  if (
    value === null ||
    typeof value === 'string' ||
    typeof value === 'number' ||
    typeof value === 'boolean'
  ) {
    return value;
  }
  return String(value);
}

/** Rows of Arrow record batches, normalized the same way as `duckdbRows`. */
export function arrowRows(batches: Iterable<RecordBatch>): Row[] {
  const rows: Row[] = [];
  for (const batch of batches) {
    const columns = batch.schema.fields.map(
      (field, i) => [field.name, batch.getChildAt(i)!] as const,
    );
    for (let index = 0; index < batch.numRows; index++) {
      const row: Row = {};
      for (const [name, vector] of columns) row[name] = normalizeArrow(vector, index);
      rows.push(row);
    }
  }
  return rows;
}

/** Rows in a canonical order, so results compare whatever order they came in. */
export function sortRows(rows: readonly Row[]): Row[] {
  const keyed = rows.map((row) => [JSON.stringify(Object.entries(row)), row] as const);
  return keyed.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, row]) => row);
}
