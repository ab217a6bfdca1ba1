/** Every input format, read from a real s3rver, yields exactly the rows DuckDB reads from the same file. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdir } from 'node:fs/promises';
import type { RecordBatch } from 'apache-arrow';
import type { InputFormat } from '../../protocol/aggregate.ts';
import { readSplit, type ReadProgress } from '../../worker-agent/aggregate/readers/index.ts';
import type { ObjectStore } from '../../worker-agent/storage/index.ts';
import { arrowRows, createDatasets, duckdbRows, type Datasets } from '../support/datasets.ts';
import { closeTestStore, openTestStore, type TestS3 } from '../support/s3.ts';

let s3: TestS3;
let store: ObjectStore;
let data: Datasets;

beforeAll(async () => {
  ({ s3, store } = await openTestStore());
  data = await createDatasets({ store, files: 2 });
}, 120_000);
afterAll(async () => {
  await data?.cleanup();
  await closeTestStore({ s3, store });
});

async function read(key: string, format: InputFormat, batchRows?: number) {
  const batches: RecordBatch[] = [];
  const progress: ReadProgress[] = [];
  for await (const batch of readSplit(store, { key, size: 0 }, format, {
    tempDir: s3.tempDir,
    onProgress: (p) => progress.push(p),
    ...(batchRows ? { batchRows } : {}),
  })) {
    batches.push(batch);
  }
  return { batches, progress };
}

/** What DuckDB reads from the local copy: Arrow IPC files are compared with the Parquet they came from. */
function oracleSql(format: InputFormat, path: string): string {
  if (format === 'csv') return `SELECT * FROM read_csv('${path}')`;
  return `SELECT * FROM read_parquet('${path.replace(/arrow/g, 'parquet')}')`;
}

describe('readers match DuckDB', { timeout: 120_000 }, () => {
  for (const format of ['parquet', 'arrow', 'csv'] as const) {
    it(`reads ${format} objects row for row as DuckDB does`, async () => {
      const files = data.files.filter((file) => file.format === format);
      expect(files.length).toBe(2);
      for (const file of files) {
        const { batches, progress } = await read(file.key, format);
        expect(batches.length).toBeGreaterThan(0);
        const expected = await duckdbRows(oracleSql(format, file.path));
        expect(expected).toHaveLength(file.rows);
        expect(arrowRows(batches)).toEqual(expected);
        // Progress after every batch, rows adding up, bytes from the store counted.
        expect(progress.length).toBeGreaterThanOrEqual(batches.length);
        expect(progress.at(-1)!.rowsRead).toBe(file.rows);
        expect(progress.at(-1)!.bytesRead).toBeGreaterThan(0);
      }
    });
  }

  it('covers the awkward values: int64 extremes, NULLs, quotes and newlines in strings', async () => {
    const csv = data.files.find((file) => file.format === 'csv')!;
    const rows = arrowRows((await read(csv.key, 'csv')).batches);
    const keys = new Set(rows.map((row) => row.k));
    expect(keys.has('9223372036854775807')).toBe(true);
    expect(keys.has('-9223372036854775808')).toBe(true);
    expect(rows.some((row) => row.category === null)).toBe(true);
    expect(
      rows.some(
        (row) => typeof row.tag === 'string' && row.tag.includes('"hi",') && row.tag.includes('\n'),
      ),
    ).toBe(true);
  });

  it('keeps batches at or under batchRows, for every format', async () => {
    for (const format of ['parquet', 'arrow', 'csv'] as const) {
      const file = data.files.find((f) => f.format === format)!;
      const { batches } = await read(file.key, format, 3_000);
      expect(batches.every((batch) => batch.numRows <= 3_000)).toBe(true);
      expect(batches.reduce((sum, batch) => sum + batch.numRows, 0)).toBe(file.rows);
    }
  });

  it('uses both Arrow IPC layouts, and leaves no temp files behind', async () => {
    expect(new Set(data.files.filter((f) => f.format === 'arrow').map((f) => f.ipc))).toEqual(
      new Set(['file', 'stream']),
    );
    expect(await readdir(s3.tempDir)).toEqual([]);
  });

  it('answers the aggregation oracle over the local copies', async () => {
    const rows = await duckdbRows(
      `SELECT k, count(*) AS n, sum(v) AS v FROM read_parquet('${data.glob('parquet')}') GROUP BY k ORDER BY k`,
    );
    expect(rows[0]).toMatchObject({ k: '-9223372036854775808' });
    expect(rows.reduce((sum, row) => sum + Number(row.n), 0)).toBe(data.totalRows);
  });
});
