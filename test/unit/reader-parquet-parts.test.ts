/** Parquet parts: contiguous row-group ranges that together read every row exactly once. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  parquetRowGroups,
  readSplit,
  ReaderError,
  rowGroupRange,
} from '../../worker-agent/aggregate/readers/index.ts';
import type { ObjectStore } from '../../worker-agent/storage/index.ts';
import { createDatasets, duckdbRows, type Datasets } from '../support/datasets.ts';
import { closeTestStore, openTestStore, type TestS3 } from '../support/s3.ts';

describe('rowGroupRange', () => {
  it('splits n row groups into `of` contiguous ranges covering each once', () => {
    for (let n = 0; n <= 20; n++) {
      for (let of = 1; of <= 25; of++) {
        const seen: number[] = [];
        let previousEnd = 0;
        for (let index = 0; index < of; index++) {
          const { start, end } = rowGroupRange(n, { index, of });
          expect(start).toBe(previousEnd);
          expect(end).toBeGreaterThanOrEqual(start);
          for (let g = start; g < end; g++) seen.push(g);
          previousEnd = end;
        }
        expect(seen).toEqual(Array.from({ length: n }, (_, g) => g));
      }
    }
    expect(rowGroupRange(7)).toEqual({ start: 0, end: 7 });
    expect(rowGroupRange(10, { index: 1, of: 3 })).toEqual({ start: 3, end: 6 });
    expect(() => rowGroupRange(4, { index: 3, of: 3 })).toThrow(RangeError);
  });
});

describe('Parquet parts against s3rver', { timeout: 60_000 }, () => {
  let s3: TestS3;
  let store: ObjectStore;
  let data: Datasets;

  beforeAll(async () => {
    ({ s3, store } = await openTestStore());
    data = await createDatasets({ store, files: 1, rowsPerFile: 50_000, rowGroupSize: 4_096 });
  }, 120_000);
  afterAll(async () => {
    await data?.cleanup();
    await closeTestStore({ s3, store });
  });

  const parquet = () => data.files.find((file) => file.format === 'parquet')!;

  async function ids(part?: { index: number; of: number }): Promise<bigint[]> {
    const out: bigint[] = [];
    const split = { key: parquet().key, size: 0, ...(part ? { part } : {}) };
    for await (const batch of readSplit(store, split, 'parquet', { tempDir: s3.tempDir })) {
      for (const id of batch.getChild('id')!) out.push(id as bigint);
    }
    return out;
  }

  it('lists the row groups from the footer alone, as DuckDB sees them', async () => {
    const groups = await parquetRowGroups(store, parquet().key);
    const expected = await duckdbRows(
      `SELECT row_group_id, max(row_group_num_rows) AS rows FROM parquet_metadata('${parquet().path}') GROUP BY 1 ORDER BY 1`,
    );
    expect(groups.map((g) => g.rows)).toEqual(expected.map((row) => Number(row.rows)));
    expect(groups.length).toBeGreaterThan(5);
    expect(groups.every((g) => g.bytes > 0)).toBe(true);
  });

  it('reads every row exactly once across the parts, for any number of parts', async () => {
    const n = (await parquetRowGroups(store, parquet().key)).length;
    const all = await ids();
    expect(all).toHaveLength(parquet().rows);
    for (const of of [1, 2, 3, 5, n, n + 3]) {
      const parts = [];
      for (let index = 0; index < of; index++) parts.push(await ids({ index, of }));
      const union = parts.flat();
      expect(union).toHaveLength(all.length);
      expect(new Set(union).size).toBe(all.length);
      // Contiguous: the parts in order are the file in order.
      expect(union).toEqual(all);
    }
  });

  it('rejects parts of non-Parquet inputs and parts that do not exist', async () => {
    const csv = data.files.find((file) => file.format === 'csv')!;
    const split = { key: csv.key, size: 0, part: { index: 0, of: 2 } };
    await expect(readSplit(store, split, 'csv', { tempDir: s3.tempDir }).next()).rejects.toThrow(
      ReaderError,
    );
    const beyond = { key: parquet().key, size: 0, part: { index: 2, of: 2 } };
    await expect(
      readSplit(store, beyond, 'parquet', { tempDir: s3.tempDir }).next(),
    ).rejects.toThrow(/part 2 of 2 does not exist/);
  });

  it('says what is wrong when asked for the row groups of something else', async () => {
    const csv = data.files.find((file) => file.format === 'csv')!;
    await expect(parquetRowGroups(store, csv.key)).rejects.toThrow(
      `cannot read s3://test-bucket/${csv.key} as parquet: not a Parquet file (no PAR1 magic at the end)`,
    );
  });
});
