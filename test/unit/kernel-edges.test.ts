/** Edge cases against DuckDB: zero rows, empty map tasks, 100k+ groups, exact 64-bit sums over millions of rows. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Dictionary,
  Int32,
  makeData,
  makeVector,
  Table,
  Utf8,
  type RecordBatch,
  vectorFromArray,
} from 'apache-arrow';
import { aggregateName, type AggregateQuery } from '../../protocol/index.ts';
import {
  createMapAggregator,
  mergePartitions,
  finalizeResult,
} from '../../worker-agent/aggregate/kernels/index.ts';
import {
  aggregateQuery,
  createOracle,
  expectOracle,
  expectSameRows,
  readBatches,
  runAggregation,
  tableCells,
  type Oracle,
  type RunOptions,
} from './kernel-helpers.ts';
import { dataSql } from './kernel-data.ts';

let oracle: Oracle;
let data: string;
let batches: RecordBatch[];

beforeAll(async () => {
  oracle = await createOracle();
  data = await oracle.write('edges', dataSql(10_000));
  batches = readBatches(data);
}, 60_000);
afterAll(() => oracle?.close());

const check = (
  query: AggregateQuery,
  sql: string,
  input: RecordBatch[],
  path: string,
  options: RunOptions = {},
) => expectOracle(oracle, path, query, sql, input, options);

const GLOBAL = aggregateQuery({
  aggregates: [
    { op: 'count' },
    { op: 'count', column: 'v' },
    { op: 'sum', column: 'v' },
    { op: 'sum', column: 'small' },
    { op: 'avg', column: 'v' },
    { op: 'min', column: 'day' },
    { op: 'max', column: 'cat' },
    { op: 'count_distinct', column: 'user_id' },
  ],
});
const GLOBAL_SQL =
  'SELECT count(*), count(v), sum(v), sum(small), avg(v), min(day), max(cat), count(DISTINCT user_id) FROM data';

describe('zero rows', () => {
  const none = [{ column: 'small', op: '=' as const, value: 99 }];

  it('without group-by: one row, count 0 and NULL elsewhere (a filter nothing passes)', async () => {
    const run = await check(
      { ...GLOBAL, filter: none },
      `${GLOBAL_SQL} WHERE small = 99`,
      batches,
      data,
    );
    expect(run.result.numRows).toBe(1);
    expect(run.rowsMatched).toBe(0);
  });

  it('without group-by: one row when no map task read a batch', async () => {
    const run = await check(GLOBAL, `${GLOBAL_SQL} WHERE false`, [], data);
    expect(
      run.partials.every((partials) => partials.length === 1 && partials[0]!.partition === 0),
    ).toBe(true);
  });

  it('without group-by: map tasks that read nothing do not disturb the others', async () => {
    expect(batches.length * 2).toBeLessThan(8);
    await check(GLOBAL, GLOBAL_SQL, batches, data, { maps: 8 });
  });

  it('with group-by: no rows, and one empty partial per map that read a batch, for the columns', async () => {
    const query = aggregateQuery({ filter: none, groupBy: ['cat'], aggregates: GLOBAL.aggregates });
    const run = await check(
      query,
      'SELECT cat, count(*) FROM data WHERE small = 99 GROUP BY cat',
      batches,
      data,
    );
    expect(run.result.numRows).toBe(0);
    expect(run.result.schema.fields.map((field) => field.name)).toEqual([
      'cat',
      ...GLOBAL.aggregates.map(aggregateName),
    ]);
    for (const partials of run.partials)
      expect(partials.map(({ partition, groups }) => ({ partition, groups }))).toEqual([
        { partition: 0, groups: 0 },
      ]);
    expect(runAggregation(query, []).partials.flat()).toEqual([]);
  });
});

describe('group counts', () => {
  it('one group fed by every map task', async () => {
    const query = aggregateQuery({
      groupBy: ['nothing'],
      aggregates: [{ op: 'count' }, { op: 'max', column: 'big' }],
    });
    const run = await check(
      query,
      'SELECT nothing, count(*), max(big) FROM data GROUP BY nothing',
      batches,
      data,
      { maps: 5 },
    );
    expect(run.result.numRows).toBe(1);
  });

  it('a dictionary key whose NULL rows point at a real entry stays NULL, apart from that entry', () => {
    // As the Parquet reader writes them: NULL rows hold index 0, here the entry 'a'.
    const indices = Int32Array.from([0, 0, 1, 0, 0, 1, 0, 0, 0, 1, 0]);
    const nulls = [1, 3, 4, 7, 8];
    const valid = new Uint8Array(2);
    indices.forEach((_, i) => {
      if (!nulls.includes(i)) valid[i >> 3]! |= 1 << (i & 7);
    });
    const type = new Dictionary(new Utf8(), new Int32());
    const key = makeData({
      type,
      length: indices.length,
      nullCount: nulls.length,
      nullBitmap: valid,
      data: indices,
      dictionary: vectorFromArray(['a', 'b'], new Utf8()),
    });
    const batches = new Table({ k: makeVector(key) }).batches;
    const query = aggregateQuery({ groupBy: ['k'], aggregates: [{ op: 'count' }] });
    const cells = tableCells(runAggregation(query, batches, { maps: 1 }).result);
    expect(cells.map((row) => JSON.stringify(row)).sort()).toEqual([
      '["a","3"]',
      '["b","3"]',
      '[null,"5"]',
    ]);
  });

  it('over 100k groups, one key and two keys', async () => {
    const path = await oracle.write(
      'many',
      `SELECT i, i % 110000 AS g, 'k' || (i % 55001) AS s, (i % 2)::INTEGER AS m, (i * 7919 % 1000)::DOUBLE AS x FROM range(0, 220000) r(i)`,
      50_000,
    );
    const input = readBatches(path, 8192);
    const one = await check(
      aggregateQuery({
        groupBy: ['g'],
        aggregates: [
          { op: 'count' },
          { op: 'sum', column: 'i' },
          { op: 'count_distinct', column: 'm' },
        ],
      }),
      'SELECT g, count(*), sum(i), count(DISTINCT m) FROM data GROUP BY g',
      input,
      path,
      { partitions: 8 },
    );
    expect(one.result.numRows).toBe(110_000);
    const two = await check(
      aggregateQuery({
        groupBy: ['s', 'm'],
        aggregates: [{ op: 'count' }, { op: 'max', column: 'i' }, { op: 'avg', column: 'x' }],
      }),
      'SELECT s, m, count(*), max(i), avg(x) FROM data GROUP BY s, m',
      input,
      path,
      { partitions: 5 },
    );
    expect(two.result.numRows).toBe(110_002);
  }, 30_000);
});

describe('exact integer sums', () => {
  it('sums 64-bit values past 2^53 over 1.5M rows per group exactly', async () => {
    const path = await oracle.write(
      'exact',
      `SELECT (i % 2)::INTEGER AS g, 1099511627776 + i * 7 AS x, (i % 2000000000)::INTEGER AS y,
              CASE WHEN i % 3 = 0 THEN -4611686018427387904 ELSE 2305843009213693952 END::BIGINT AS z,
              (i % 1000) * 4294967296 + 4294967295 AS w
       FROM range(0, 3000000) r(i)`,
      1_000_000,
    );
    const input = readBatches(path, 65_536);
    await check(
      aggregateQuery({
        groupBy: ['g'],
        aggregates: [
          { op: 'sum', column: 'x' },
          { op: 'sum', column: 'y' },
          { op: 'avg', column: 'x' },
          { op: 'count' },
        ],
      }),
      'SELECT g, sum(x), sum(y), avg(x), count(*) FROM data GROUP BY g',
      input,
      path,
      { maps: 1 },
    );
    // z sums to a small number through totals far beyond int64 inside every map task; w's low
    // words alone sum past 2^53 in one group, so they must be settled into bigints on the way.
    await check(
      aggregateQuery({
        aggregates: [
          { op: 'sum', column: 'z' },
          { op: 'sum', column: 'w' },
        ],
      }),
      'SELECT sum(z), sum(w) FROM data',
      input,
      path,
      { maps: 2 },
    );
    await check(
      aggregateQuery({ aggregates: [{ op: 'sum', column: 'w' }] }),
      'SELECT sum(w) FROM data',
      input,
      path,
      { maps: 1 },
    );
  }, 60_000);

  it('partial sums beyond int64 in two map tasks cancel out in the reduce', async () => {
    const path = await oracle.write(
      'cancel',
      `SELECT 1 AS g, CASE WHEN i < 3 THEN 9223372036854775807 ELSE -9223372036854775808 END::BIGINT AS x FROM range(0, 6) r(i)`,
    );
    const [batch] = readBatches(path);
    const query = aggregateQuery({
      groupBy: ['g'],
      aggregates: [
        { op: 'sum', column: 'x' },
        { op: 'avg', column: 'x' },
      ],
    });
    const maps = [createMapAggregator(query, 1), createMapAggregator(query, 1)];
    maps[0]!.add(batch!.slice(0, 3));
    maps[1]!.add(batch!.slice(3));
    const merged = mergePartitions(
      query,
      maps.map((map) => map.finish()[0]!.table),
    );
    const expected = await oracle.rows(
      `SELECT g, sum(x), avg(x) FROM read_parquet('${path}') GROUP BY g`,
    );
    expectSameRows(tableCells(finalizeResult([merged])), expected, 1);
  });
});
