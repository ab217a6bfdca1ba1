/** The CSV reader: RFC 4180 tokenizing, DuckDB's type sniffing, and the same rows DuckDB reads. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RecordBatch } from 'apache-arrow';
import {
  CsvSyntaxError,
  CsvTokenizer,
} from '../../worker-agent/aggregate/readers/csv-tokenizer.ts';
import { parseTimestamp, sniffTypes } from '../../worker-agent/aggregate/readers/csv-types.ts';
import { columnNames } from '../../worker-agent/aggregate/readers/csv.ts';
import { ReaderError, readSplit } from '../../worker-agent/aggregate/readers/index.ts';
import type { ObjectStore } from '../../worker-agent/storage/index.ts';
import { arrowRows, duckdbRows } from '../support/datasets.ts';
import { closeTestStore, openTestStore, type TestS3 } from '../support/s3.ts';

function tokenize(chunks: string[]) {
  const tokenizer = new CsvTokenizer();
  const records = chunks.flatMap((chunk) => tokenizer.push(chunk));
  return [...records, ...tokenizer.finish()];
}

describe('CsvTokenizer', () => {
  const text = 'a,b,c\r\n1,"x, ""y""\nz",\n"",plain,"q"\n\n4,5,6';

  it('splits fields and records per RFC 4180; empty fields are NULL', () => {
    expect(tokenize([text])).toEqual([
      { values: ['a', 'b', 'c'], line: 1 },
      { values: ['1', 'x, "y"\nz', null], line: 2 },
      { values: [null, 'plain', 'q'], line: 4 },
      { values: ['4', '5', '6'], line: 6 },
    ]);
  });

  it('gives the same records whatever the chunking, down to one character at a time', () => {
    const whole = tokenize([text]);
    expect(tokenize([...text])).toEqual(whole);
    for (let cut = 1; cut < text.length; cut++)
      expect(tokenize([text.slice(0, cut), text.slice(cut)])).toEqual(whole);
  });

  it('ends without a final newline, and ignores a trailing one', () => {
    expect(tokenize(['a\n1'])).toEqual(tokenize(['a\n1\n']));
    expect(tokenize(['a,b\n1,'])).toEqual([
      { values: ['a', 'b'], line: 1 },
      { values: ['1', null], line: 2 },
    ]);
  });

  it('rejects an unclosed quote and text after a closing quote, naming the line', () => {
    expect(() => tokenize(['a\n"open\nstill open'])).toThrow(
      new CsvSyntaxError(2, 'a quoted field is never closed (truncated file?)'),
    );
    expect(() => tokenize(['a\n1\n"x"y\n'])).toThrow(
      /line 3: unexpected "y" after a closing quote/,
    );
  });
});

describe('CSV type sniffing', () => {
  it('picks the most specific type every value fits, as DuckDB does', () => {
    const rows = [
      ['1', '1.5', 'true', '2024-01-02', '2024-01-02 03:04:05', '007', '+5', 'x', null, '1'],
      ['-20', '2', 'F', '2024-2-3', '2024-01-02', '1', '6', '1', null, 'yes'],
      [' 3 ', 'inf', 'yes', '1999-12-31', '2024-01-02T03:04:05.1234567', '2', '7', '2', null, 'no'],
    ];
    expect(sniffTypes(rows, 10)).toEqual([
      'BIGINT',
      'DOUBLE',
      'BOOLEAN',
      'DATE',
      'TIMESTAMP',
      'VARCHAR',
      'VARCHAR',
      'VARCHAR',
      'VARCHAR',
      'VARCHAR',
    ]);
  });

  it('parses timestamps to microseconds, cutting digits past six', () => {
    expect(parseTimestamp('1970-01-01 00:00:01.5')).toBe(1_500_000n);
    expect(parseTimestamp('2024-01-02T03:04:05.1234567')).toBe(
      parseTimestamp('2024-01-02 03:04:05.123456'),
    );
    expect(parseTimestamp('1969-12-31 23:59:59')).toBe(-1_000_000n);
    expect(parseTimestamp('2023-02-29 00:00:00')).toBeUndefined();
  });

  it('names header columns as DuckDB does', () => {
    expect(columnNames(['a', null, 'a', 'a_1'])).toEqual(['a', 'column1', 'a_1', 'a_1_1']);
  });
});

describe('CSV objects against DuckDB', { timeout: 60_000 }, () => {
  let s3: TestS3;
  let store: ObjectStore;
  let dir: string;

  beforeAll(async () => {
    ({ s3, store } = await openTestStore());
    dir = await mkdtemp(join(tmpdir(), 'tm-csv-'));
  }, 60_000);
  afterAll(async () => {
    await closeTestStore({ s3, store });
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** Puts `text` in the store and beside DuckDB; returns the local path. */
  async function put(key: string, text: string): Promise<string> {
    const path = join(dir, key.replace(/\//g, '_'));
    await writeFile(path, text);
    await store.put(key, new TextEncoder().encode(text));
    return path;
  }

  async function read(key: string, batchRows?: number): Promise<RecordBatch[]> {
    const batches: RecordBatch[] = [];
    const options = { tempDir: s3.tempDir, ...(batchRows ? { batchRows } : {}) };
    for await (const batch of readSplit(store, { key, size: 0 }, 'csv', options))
      batches.push(batch);
    return batches;
  }

  async function expectSameAsDuckdb(key: string, text: string, batchRows?: number): Promise<void> {
    const path = await put(key, text);
    expect(arrowRows(await read(key, batchRows))).toEqual(
      await duckdbRows(`SELECT * FROM read_csv('${path}')`),
    );
  }

  it('reads quoted commas, quotes, embedded CRLF and LF, NULLs and every type like DuckDB', async () => {
    const text =
      'id,name,note,score,ok,day,at\r\n' +
      '1,"Smith, John","said ""hi""\r\nand left",1.5,true,2024-01-02,2024-01-02 03:04:05\r\n' +
      '2,,"",,false,,\r\n' +
      '3,plain,"two\nlines",inf,TRUE,2024-02-29,2024-02-29 23:59:59.123456\r\n' +
      '4,"""",y,nan,f,2024-03-01,2024-03-01\r\n';
    await expectSameAsDuckdb('csv/mixed.csv', text);
    await expectSameAsDuckdb('csv/mixed-small-batches.csv', text, 1);
  });

  it('keeps zip-code-like and signed text as VARCHAR, and big integers as DOUBLE, like DuckDB', async () => {
    await expectSameAsDuckdb(
      'csv/types.csv',
      'zip,signed,huge,flag\n007,+5,99999999999999999999,yes\n10,6,1,no\n',
    );
  });

  it('reads a header-only file as no rows, and names empty headers', async () => {
    await put('csv/header-only.csv', 'a,b\n');
    expect(await read('csv/header-only.csv')).toEqual([]);
    await expectSameAsDuckdb('csv/empty-header.csv', 'a,,a\n1,2,3\n');
  });

  it('types from the first 20,480 rows and rejects a later value that does not fit, naming line and column', async () => {
    const lines = ['n,s', ...Array.from({ length: 25_000 }, (_, i) => `${i},s${i}`)];
    await expectSameAsDuckdb('csv/long.csv', lines.join('\n') + '\n', 4_096);
    lines[22_001] = 'oops,bad';
    const path = await put('csv/late-bad.csv', lines.join('\n') + '\n');
    const error = await read('csv/late-bad.csv').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReaderError);
    expect((error as ReaderError).code).toBe('value');
    expect((error as ReaderError).message).toBe(
      'cannot read s3://test-bucket/csv/late-bad.csv as csv: line 22002, column "n": "oops" is not a BIGINT (the type sniffed from the first 20480 rows)',
    );
    // DuckDB refuses the file too.
    await expect(duckdbRows(`SELECT * FROM read_csv('${path}')`)).rejects.toThrow();
  });

  it('rejects rows with the wrong number of fields, and text that is not UTF-8', async () => {
    await put('csv/ragged.csv', 'a,b\n1,2\n3\n');
    await expect(read('csv/ragged.csv')).rejects.toThrow(
      'cannot read s3://test-bucket/csv/ragged.csv as csv: line 3 has 1 fields, the header has 2',
    );
    await store.put('csv/binary.csv', new Uint8Array([0x61, 0x0a, 0xff, 0xfe, 0x00, 0x0a]));
    await expect(read('csv/binary.csv')).rejects.toThrow(/csv\/binary\.csv as csv: not UTF-8 text/);
  });
});
