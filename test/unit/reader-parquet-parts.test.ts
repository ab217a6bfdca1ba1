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
  /** The parts' ranges, checked to be contiguous and to cover every group once. */
  function parts(sizes: readonly number[], of: number): [number, number][] {
    const ranges: [number, number][] = [];
    let previousEnd = 0;
    for (let index = 0; index < of; index++) {
      const { start, end } = rowGroupRange(sizes, { index, of });
      expect(start).toBe(previousEnd);
      expect(end).toBeGreaterThanOrEqual(start);
      ranges.push([start, end]);
      previousEnd = end;
    }
    expect(previousEnd).toBe(sizes.length);
    return ranges;
  }

  it('splits row groups into `of` contiguous ranges covering each once, whatever their sizes', () => {
    let seed = 7;
    const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    for (let n = 0; n <= 20; n++) {
      for (let of = 1; of <= 25; of++) {
        parts(
          Array.from({ length: n }, () => 1000),
          of,
        );
        parts(
          Array.from({ length: n }, () => Math.floor(random() * 5000)),
          of,
        );
        parts(
          Array.from({ length: n }, () => 0),
          of,
        );
      }
    }
    expect(rowGroupRange([5, 5, 5])).toEqual({ start: 0, end: 3 });
    expect(() => rowGroupRange([1, 1, 1, 1], { index: 3, of: 3 })).toThrow(RangeError);
  });

  it('gives parts about equal bytes, not equal counts', () => {
    expect(
      parts(
        Array.from({ length: 10 }, () => 100),
        3,
      ),
    ).toEqual([
      [0, 3],
      [3, 7],
      [7, 10],
    ]);
    // One large group and many small ones: the large one is a part of its own.
    const skewed = [1000, ...Array.from({ length: 100 }, () => 10)];
    expect(parts(skewed, 2)).toEqual([
      [0, 1],
      [1, 101],
    ]);
    // Sizes that say nothing: by count.
    expect(parts([0, 0, 0, 0], 2)).toEqual([
      [0, 2],
      [2, 4],
    ]);
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

  it('reads nothing but the footer for a part that owns no row group', async () => {
    const sizes = (await parquetRowGroups(store, parquet().key)).map((group) => group.bytes);
    const of = 2 * sizes.length;
    const index = Array.from({ length: of }, (_, at) => at).find((at) => {
      const { start, end } = rowGroupRange(sizes, { index: at, of });
      return start === end;
    })!;
    expect(index).toBeDefined();
    const split = { key: parquet().key, size: 0, part: { index, of } };
    let read = { bytesRead: -1, rowsRead: -1 };
    const options = { tempDir: s3.tempDir, onProgress: (p: typeof read) => (read = p) };
    const batches = [];
    for await (const batch of readSplit(store, split, 'parquet', options)) batches.push(batch);
    expect(batches).toEqual([]);
    expect(read.rowsRead).toBe(0);
    const whole = (await store.head(parquet().key)).size;
    expect(read.bytesRead).toBeGreaterThan(0);
    expect(read.bytesRead).toBeLessThan(whole / 4);
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
