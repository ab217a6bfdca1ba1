/** Radix partitioning is a function of key values only: fixed across processes, encodings, batchings and map tasks. */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Data, DataType, Int64, type RecordBatch, type Table, type Vector } from 'apache-arrow';
import type { AggregateQuery } from '../../protocol/index.ts';
import {
  createMapAggregator,
  hashKey,
  partialColumnNames,
  partitionOf,
  type KeyScalar,
} from '../../worker-agent/aggregate/kernels/index.ts';
import { aggregateQuery, createOracle, readBatches, type Oracle } from './kernel-helpers.ts';
import { convert, mapColumn } from './kernel-encodings.ts';
import { dataSql } from './kernel-data.ts';

let oracle: Oracle;
let batches: RecordBatch[];

beforeAll(async () => {
  oracle = await createOracle();
  batches = readBatches(await oracle.write('partition', dataSql(20_000)), 2500);
}, 60_000);
afterAll(() => oracle?.close());

const KEYS: KeyScalar[][] = [
  ['cat-1'],
  [null],
  [42n],
  [-9223372036854775807n],
  [18446744073709551615n],
  [1.5],
  [-0],
  [NaN],
  [true],
  ['é', 7n],
  [''],
  ['a long string key of more than sixteen bytes'],
];

/** [hash, partition of 16, partition of 7] of each key: pinned, since map tasks on other machines must agree. */
const PINNED = [
  [-1180365155, 4, 2],
  [795580957, 1, 0],
  [-1599513850, 14, 6],
  [2140386221, 6, 2],
  [478346618, 6, 3],
  [-362736559, 15, 6],
  [-1438753951, 10, 4],
  [461845907, 9, 4],
  [1863002342, 6, 3],
  [1325837768, 9, 4],
  [-1832243442, 2, 0],
  [-38147305, 10, 4],
];

const figures = (keys: KeyScalar[][]) =>
  keys.map((key) => [hashKey(key), partitionOf(key, 16), partitionOf(key, 7)]);

describe('partitionOf', () => {
  it('gives the pinned hashes and partitions', () => {
    expect(figures(KEYS)).toEqual(PINNED);
    expect(partitionOf([], 16)).toBe(0);
    expect(partitionOf(['anything'], 1)).toBe(0);
  });

  it('gives the same answers in another process', () => {
    const index = fileURLToPath(
      new URL('../../worker-agent/aggregate/kernels/index.ts', import.meta.url),
    );
    const script = `
      import { hashKey, partitionOf } from ${JSON.stringify(index)};
      const keys = ${JSON.stringify(KEYS, (_k, v: unknown) =>
        typeof v === 'bigint' ? `${v}n` : v === 0 && 1 / v < 0 ? '-0' : Number.isNaN(v) ? 'NaN' : v,
      )
        .replace(/"(-?\d+)n"/g, '$1n')
        .replace(/"-0"/g, '-0')
        .replace(/"NaN"/g, 'NaN')};
      console.log(JSON.stringify(keys.map((key) => [hashKey(key), partitionOf(key, 16), partitionOf(key, 7)])));`;
    const output = execFileSync(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script],
      { encoding: 'utf8' },
    );
    expect(JSON.parse(output)).toEqual(PINNED);
  });

  it('spreads keys evenly', () => {
    const counts = new Array<number>(8).fill(0);
    for (let i = 0; i < 16_000; i++) counts[partitionOf([`user-${i}`], 8)]!++;
    for (const count of counts) expect(count).toBeGreaterThan(1700);
  });
});

/** A partial table's key column value as the KeyScalar partitionOf takes. */
function scalar(vector: Vector, row: number): KeyScalar {
  if (!vector.isValid(row)) return null;
  const type = vector.type as DataType;
  const raw = (vector.data[0]!.values as ArrayLike<number | bigint>)[row]!;
  if (DataType.isDate(type) || DataType.isTimestamp(type))
    return typeof raw === 'bigint' && DataType.isDate(type) ? raw / 86_400_000n : BigInt(raw);
  if (DataType.isInt(type)) return BigInt(vector.get(row) as number | bigint);
  return vector.get(row) as KeyScalar;
}

/** Key → partition, over every partial row every map task wrote, checking each row against partitionOf. */
function placements(
  query: AggregateQuery,
  input: RecordBatch[],
  maps: number,
): Map<string, number> {
  const tasks = Array.from({ length: maps }, () => createMapAggregator(query, 8));
  input.forEach((batch, i) => tasks[i % maps]!.add(batch));
  const placed = new Map<string, number>();
  for (const { partition, table } of tasks.flatMap((task) => task.finish())) {
    const keys = query.groupBy.map((_, j) => (table as Table).getChild(`k${j}`)!);
    for (let row = 0; row < table.numRows; row++) {
      const key = keys.map((vector) => scalar(vector, row));
      expect(partitionOf(key, 8)).toBe(partition);
      const name = JSON.stringify(key, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v));
      expect(placed.get(name) ?? partition).toBe(partition);
      placed.set(name, partition);
    }
  }
  return placed;
}

describe('map tasks place each group by its key value', () => {
  const query = (groupBy: string[]) => aggregateQuery({ groupBy, aggregates: [{ op: 'count' }] });

  it.each([
    ['cat'],
    ['big'],
    ['small', 'uni'],
    ['day', 'flag'],
    ['ts'],
    ['price'],
    ['u64'],
    ['tiny', 'user_id'],
  ])(
    'keys %s: every partial row is in partitionOf(its key), whichever task wrote it',
    (...groupBy) => {
      expect(placements(query(groupBy), batches, 3).size).toBeGreaterThan(1);
    },
  );

  it('dictionary and plain strings place alike', () => {
    const plain = placements(query(['cat', 'user_id']), batches, 2);
    const encoded = placements(
      query(['cat', 'user_id']),
      mapColumn(mapColumn(batches, 'cat', convert.dictionary()), 'user_id', convert.largeUtf8),
      4,
    );
    expect(encoded).toEqual(plain);
  });

  it('32- and 64-bit integers, Date32 and Date64 place alike', () => {
    const widen = (data: Data) => {
      const values = BigInt64Array.from(data.values as Int32Array, (value) => BigInt(value));
      return new Data(new Int64(), 0, data.length, data.nullCount, [
        undefined,
        values,
        data.nullBitmap,
      ]);
    };
    const narrow = placements(query(['small', 'day']), batches, 2);
    const wide = placements(
      query(['small', 'day']),
      mapColumn(mapColumn(batches, 'small', widen), 'day', convert.date64),
      3,
    );
    expect(wide).toEqual(narrow);
  });
});

describe('partial tables', () => {
  it('have the documented columns', () => {
    const query = aggregateQuery({
      groupBy: ['cat', 'small'],
      aggregates: [
        { op: 'count' },
        { op: 'sum', column: 'big' },
        { op: 'avg', column: 'v' },
        { op: 'max', column: 'day' },
        { op: 'count_distinct', column: 'user_id' },
      ],
    });
    const map = createMapAggregator(query, 2);
    map.add(batches[0]!);
    const [partial] = map.finish();
    expect(partial!.table.schema.metadata.get('tm.aggregate.partial')).toBe('1');
    expect(partial!.table.schema.fields.map((field) => `${field.name}: ${field.type}`)).toEqual([
      'k0: Utf8',
      'k1: Int32',
      'c0: Int64',
      's1: Decimal[38e0]',
      'n1: Int64',
      's2: Float64',
      'n2: Int64',
      'm3: Date32<DAY>',
      'd4: List<Utf8>',
    ]);
    expect(partialColumnNames(query)).toEqual(
      partial!.table.schema.fields.map((field) => field.name),
    );
    expect(partial!.groups).toBe(partial!.table.numRows);
  });
});
