/**
 * Conformance with DuckDB on the public apache/parquet-testing corpus (files under 100 KB, copied
 * into test/fixtures/parquet-testing, see its README). For every column of every file DuckDB
 * reads, the aggregation over our reading (the JavaScript reader with parquet-wasm for what it
 * leaves, and parquet-wasm alone) gives DuckDB's row count, non-NULL count, count distinct, and
 * min, max and sum of numbers and times, or a clear refusal that names the column and the
 * feature. Files DuckDB does not read fail with a reader's error, never a crash or a hang.
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RecordBatch } from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AggregateExpr } from '../../protocol/index.ts';
import { ReaderError } from '../../worker-agent/aggregate/readers/errors.ts';
import { readParquet } from '../../worker-agent/aggregate/readers/parquet.ts';
import type { ReadContext } from '../../worker-agent/aggregate/readers/read-context.ts';
import type { ObjectStore } from '../../worker-agent/storage/index.ts';
import {
  aggregateQuery,
  createOracle,
  expectSameRows,
  runAggregation,
  tableCells,
  type Cell,
  type Oracle,
} from './kernel-helpers.ts';

const FIXTURES = fileURLToPath(new URL('../fixtures/parquet-testing/', import.meta.url));
const NUMERIC =
  /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|FLOAT|DOUBLE|DECIMAL\(.*\))$/;
const TEMPORAL = /^(DATE|TIMESTAMP.*|TIME)$/;
/** What a clear refusal says: the feature is not supported (by the reader or the kernels). */
const REFUSAL = /not supported|do not support|overflows a 64-bit integer/;
/** The corpus's files that are malformed on purpose: a reader's error for them is right. */
const MALFORMED = /^bad_data\/|nation\.dict-malformed/;

type Path = 'fast' | 'fallback';
type Outcome =
  | { kind: 'agree' }
  /** DuckDB cannot aggregate the column (a codec or encoding it lacks): nothing to compare. */
  | { kind: 'unanswered' }
  | { kind: 'refused' | 'malformed' | 'mismatch' | 'unclear'; message: string };

interface Column {
  name: string;
  duckType: string;
}

let dir: string;
let oracle: Oracle;
const files: string[] = [];

/** An in-memory store holding one object. */
function memoryStore(bytes: Uint8Array): ObjectStore {
  return {
    bucket: 'conformance',
    endpoint: undefined,
    get: async (_key, range) =>
      bytes.slice(range?.start ?? 0, Math.min(bytes.length, range?.end ?? bytes.length)),
    async *getStream() {
      yield bytes;
    },
    download: async (_key, file) => {
      await writeFile(file, bytes);
      return bytes.length;
    },
    head: async () => ({ size: bytes.length }),
    put: async () => undefined,
    list: async function* () {},
    delete: async () => undefined,
    close: () => undefined,
  };
}

/** Every batch of `columns` of the file, through `path`. */
async function read(file: string, columns: string[], path: Path): Promise<RecordBatch[]> {
  const bytes = new Uint8Array(await readFile(join(FIXTURES, file)));
  const context: ReadContext = {
    store: memoryStore(bytes),
    key: file,
    batchRows: 1000,
    tempDir: dir,
    columns,
    countBytes: () => undefined,
    fail: (code, reason) => new ReaderError(code, file, 'parquet', reason),
  };
  const batches: RecordBatch[] = [];
  for await (const batch of readParquet(
    context,
    { key: file, size: bytes.length },
    path === 'fallback',
  ))
    batches.push(batch);
  return batches;
}

const quoted = (name: string) => `"${name.replaceAll('"', '""')}"`;

/** The aggregates compared for a column of DuckDB type `duckType`, and DuckDB's SQL for them. */
function aggregates(column: Column): { exprs: AggregateExpr[]; sql: string } {
  const c = quoted(column.name);
  const exprs: AggregateExpr[] = [
    { op: 'count' },
    { op: 'count', column: column.name },
    { op: 'count_distinct', column: column.name },
  ];
  const sql = [`count(*)`, `count(${c})`, `count(DISTINCT ${c})`];
  if (NUMERIC.test(column.duckType) || TEMPORAL.test(column.duckType)) {
    exprs.push({ op: 'min', column: column.name }, { op: 'max', column: column.name });
    sql.push(`min(${c})`, `max(${c})`);
  }
  if (NUMERIC.test(column.duckType)) {
    exprs.push({ op: 'sum', column: column.name });
    sql.push(`sum(${c})`);
  }
  return { exprs, sql: sql.join(', ') };
}

/** Our answer for `column` through `path` against DuckDB's `expected`. */
async function outcome(
  file: string,
  column: Column,
  path: Path,
  expected: Cell[][] | null,
): Promise<Outcome> {
  const { exprs } = aggregates(column);
  let cells: Cell[][];
  try {
    const batches = await read(file, [column.name], path);
    cells = tableCells(runAggregation(aggregateQuery({ aggregates: exprs }), batches).result);
  } catch (error) {
    const message = (error as Error).message;
    const clear =
      REFUSAL.test(message) && message.includes(column.name) && !/corrupt/.test(message);
    if (clear) return { kind: 'refused', message };
    const malformed = MALFORMED.test(file) && error instanceof ReaderError;
    return { kind: malformed ? 'malformed' : 'unclear', message };
  }
  if (!expected) return { kind: 'unanswered' };
  try {
    expectSameRows(cells, expected, 0);
    return { kind: 'agree' };
  } catch {
    return {
      kind: 'mismatch',
      message: `ours ${JSON.stringify(cells)} DuckDB ${JSON.stringify(expected)}`,
    };
  }
}

/** Every Parquet (and encrypted Parquet) file under `root`, relative to it. */
async function fixtureFiles(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile() && /\.parquet(\.encrypted)?$/.test(entry.name))
    .map((entry) => relative(root, join(entry.parentPath, entry.name)))
    .sort();
}

/** DuckDB's columns of the file, or null when DuckDB does not read it. */
async function duckColumns(file: string): Promise<Column[] | null> {
  try {
    const rows = await oracle.rows(
      `DESCRIBE SELECT * FROM read_parquet('${join(FIXTURES, file)}')`,
    );
    return rows.map((row) => ({ name: String(row[0]), duckType: String(row[1]) }));
  } catch {
    return null;
  }
}

/** DuckDB's answer for `column`, or null when DuckDB cannot aggregate it. */
async function duckAnswer(file: string, column: Column): Promise<Cell[][] | null> {
  try {
    return await oracle.rows(
      `SELECT ${aggregates(column).sql} FROM read_parquet('${join(FIXTURES, file)}')`,
    );
  } catch {
    return null;
  }
}

/** How a whole read of the file ends: its rows, or the error it fails with. */
async function readAll(file: string, path: Path): Promise<{ rows: number } | { error: unknown }> {
  try {
    const batches = await read(file, [], path);
    return { rows: batches.reduce((sum, batch) => sum + batch.numRows, 0) };
  } catch (error) {
    return { error };
  }
}

interface Report {
  file: string;
  column: string;
  path: Path;
  outcome: Outcome;
}

const reports: Report[] = [];
const unreadByDuckDB: string[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tm-conformance-'));
  oracle = await createOracle();
  files.push(...(await fixtureFiles(FIXTURES)));
  for (const file of files) {
    const columns = await duckColumns(file);
    if (!columns) {
      unreadByDuckDB.push(file);
      continue;
    }
    for (const column of columns) {
      const expected = await duckAnswer(file, column);
      for (const path of ['fast', 'fallback'] as const) {
        reports.push({
          file,
          column: column.name,
          path,
          outcome: await outcome(file, column, path, expected),
        });
      }
    }
  }
}, 300_000);
afterAll(async () => {
  oracle?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const find = (file: string, column: string, path: Path) =>
  reports.find((r) => r.file === file && r.column === column && r.path === path)!.outcome;

describe('conformance with DuckDB on apache/parquet-testing', { timeout: 300_000 }, () => {
  it("gives DuckDB's answer for every column DuckDB reads, or a clear refusal, both ways", () => {
    const count = (kind: Outcome['kind']) => reports.filter((r) => r.outcome.kind === kind);
    const readFiles = new Set(reports.map((r) => r.file));
    const agreeFiles = [...readFiles].filter((file) =>
      reports.every((r) => r.file !== file || r.outcome.kind === 'agree'),
    );
    console.log(
      `parquet-testing conformance: ${files.length} files, ${readFiles.size} read by DuckDB ` +
        `(${agreeFiles.length} agree in every column both ways); ${reports.length / 2} columns × 2 ` +
        `paths: ${count('agree').length} agree, ${count('refused').length} clear refusals, ` +
        `${count('malformed').length} errors on malformed files, ${count('unanswered').length} ` +
        `DuckDB cannot aggregate, ${count('mismatch').length} mismatches, ` +
        `${count('unclear').length} unclear errors; ` +
        `${unreadByDuckDB.length} files DuckDB does not read`,
    );
    const bad = reports.filter(
      (r) => r.outcome.kind === 'mismatch' || r.outcome.kind === 'unclear',
    );
    expect(bad.map((r) => `${r.file} ${r.column} ${r.path}: ${JSON.stringify(r.outcome)}`)).toEqual(
      [],
    );
    expect(count('agree').length).toBeGreaterThan(300);
  });

  it('reads files DuckDB does not read to a reader error, never a crash', async () => {
    expect(unreadByDuckDB.length).toBeGreaterThan(10);
    for (const file of unreadByDuckDB) {
      for (const path of ['fast', 'fallback'] as const) {
        const end = await readAll(file, path);
        if ('rows' in end) continue;
        expect(end.error, file).toBeInstanceOf(ReaderError);
        if (/encrypt/.test(file)) {
          expect((end.error as Error).message).toMatch(/encrypted: not supported/);
        }
      }
    }
  });

  it('refuses INT96 columns, naming them, rather than wrapping their dates', () => {
    for (const path of ['fast', 'fallback'] as const) {
      const result = find('data/int96_from_spark.parquet', 'a', path);
      expect(result).toEqual({
        kind: 'refused',
        message: expect.stringMatching(/column a: INT96 timestamps are not supported/),
      });
    }
  });

  it('refuses repeated fields without annotation, never reading 0 rows', () => {
    for (const path of ['fast', 'fallback'] as const) {
      expect(find('data/repeated_no_annotation.parquet', 'phoneNumbers', path)).toEqual({
        kind: 'refused',
        message: expect.stringMatching(/column phoneNumbers: repeated fields are not supported/),
      });
    }
    // parquet-wasm reads 0 rows of the flat column too: the footer's count catches it.
    expect(find('data/repeated_no_annotation.parquet', 'id', 'fast')).toEqual({ kind: 'agree' });
    expect(find('data/repeated_no_annotation.parquet', 'id', 'fallback')).toEqual({
      kind: 'refused',
      message: expect.stringMatching(/column id: parquet-wasm read 0 rows of the footer's 6/),
    });
  });

  it('reads the valid files once refused as corrupt', () => {
    expect(find('data/datapage_v2_empty_datapage.snappy.parquet', 'value', 'fast')).toEqual({
      kind: 'agree',
    });
    for (const path of ['fast', 'fallback'] as const) {
      expect(find('data/rle_boolean_encoding.parquet', 'datatype_boolean', path)).toEqual({
        kind: 'agree',
      });
      expect(find('data/geospatial/geography-points.parquet', 'id', path)).toEqual({
        kind: 'agree',
      });
    }
    expect(find('data/dict-page-offset-zero.parquet', 'l_partkey', 'fast')).toEqual({
      kind: 'agree',
    });
    expect(find('data/large_string_map.brotli.parquet', 'arr', 'fast')).toEqual({
      kind: 'refused',
      message: expect.stringMatching(/column arr: repeated fields are not supported/),
    });
  });

  it('refuses encrypted columns of a file with a plaintext footer, naming them', () => {
    const file = 'data/encrypt_columns_plaintext_footer.parquet.encrypted';
    const outcomes = reports.filter((r) => r.file === file).map((r) => r.outcome);
    expect(outcomes.length).toBeGreaterThan(0);
    expect(
      outcomes.some((o) => o.kind === 'refused' && /encrypted: not supported/.test(o.message)),
    ).toBe(true);
    expect(outcomes.every((o) => o.kind === 'refused' || o.kind === 'agree')).toBe(true);
  });
});
