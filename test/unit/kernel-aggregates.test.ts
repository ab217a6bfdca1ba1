/** Map, reduce and final kernels give DuckDB's answer to the same group-by, for every aggregate and key type. */
import { afterAll, beforeAll, describe, it } from 'vitest';
import type { RecordBatch } from 'apache-arrow';
import type { AggregateQuery } from '../../protocol/index.ts';
import {
  aggregateQuery,
  createOracle,
  expectOracle,
  readBatches,
  type Oracle,
} from './kernel-helpers.ts';
import { EVERY_AGGREGATE, EVERY_AGGREGATE_SQL, dataSql } from './kernel-data.ts';

let oracle: Oracle;
let path: string;
let batches: RecordBatch[];

beforeAll(async () => {
  oracle = await createOracle();
  path = await oracle.write('data', dataSql(60_000));
  batches = readBatches(path);
}, 60_000);
afterAll(() => oracle?.close());

interface Case {
  name: string;
  query: AggregateQuery;
  /** The same query in SQL over `data`, its columns in the result's order. */
  sql: string;
}

const CASES: Case[] = [
  {
    name: 'one string key with NULLs, every aggregate',
    query: EVERY_AGGREGATE,
    sql: EVERY_AGGREGATE_SQL,
  },
  {
    name: 'int64 extremes and NULL as keys',
    query: aggregateQuery({
      groupBy: ['big'],
      aggregates: [{ op: 'count' }, { op: 'min', column: 'id' }, { op: 'max', column: 'v' }],
    }),
    sql: 'SELECT big, count(*), min(id), max(v) FROM data GROUP BY big',
  },
  {
    name: 'three keys: boolean, date and tinyint (many groups)',
    query: aggregateQuery({
      groupBy: ['flag', 'day', 'tiny'],
      aggregates: [
        { op: 'count' },
        { op: 'sum', column: 'wide' },
        { op: 'min', column: 'user_id' },
        { op: 'max', column: 'flag' },
      ],
    }),
    sql: 'SELECT flag, day, tiny, count(*), sum(wide), min(user_id), max(flag) FROM data GROUP BY flag, day, tiny',
  },
  {
    name: 'timestamps and decimals as keys',
    query: aggregateQuery({
      groupBy: ['ts', 'price'],
      aggregates: [{ op: 'count' }, { op: 'sum', column: 'id' }],
    }),
    sql: 'SELECT ts, price, count(*), sum(id) FROM data GROUP BY ts, price',
  },
  {
    name: 'unsigned integers and float32',
    query: aggregateQuery({
      groupBy: ['u32'],
      aggregates: [
        { op: 'min', column: 'u64' },
        { op: 'max', column: 'u64' },
        { op: 'sum', column: 'u32' },
        { op: 'sum', column: 'f32' },
        { op: 'avg', column: 'f32' },
        { op: 'min', column: 'f32' },
        { op: 'count_distinct', column: 'u64' },
      ],
    }),
    sql: 'SELECT u32, min(u64), max(u64), sum(u32), sum(f32), avg(f32), min(f32), count(DISTINCT u64) FROM data GROUP BY u32',
  },
  {
    name: 'NaN: the largest value, one distinct value, contagious in sums',
    query: aggregateQuery({
      groupBy: ['small'],
      aggregates: [
        { op: 'min', column: 'nanv' },
        { op: 'max', column: 'nanv' },
        { op: 'sum', column: 'nanv' },
        { op: 'avg', column: 'nanv' },
        { op: 'count', column: 'nanv' },
        { op: 'count_distinct', column: 'nanv' },
      ],
    }),
    sql: 'SELECT small, min(nanv), max(nanv), sum(nanv), avg(nanv), count(nanv), count(DISTINCT nanv) FROM data GROUP BY small',
  },
  {
    name: 'no group-by: one global row',
    query: aggregateQuery({
      aggregates: [
        { op: 'count' },
        { op: 'sum', column: 'v' },
        { op: 'min', column: 'day' },
        { op: 'max', column: 'day' },
        { op: 'count_distinct', column: 'user_id' },
        { op: 'sum', column: 'wide' },
        { op: 'min', column: 'uni' },
      ],
    }),
    sql: 'SELECT count(*), sum(v), min(day), max(day), count(DISTINCT user_id), sum(wide), min(uni) FROM data',
  },
  {
    name: 'Unicode and empty strings as keys, ordered by UTF-8 bytes in min and max',
    query: aggregateQuery({
      groupBy: ['uni'],
      aggregates: [{ op: 'count' }, { op: 'min', column: 'cat' }, { op: 'max', column: 'cat' }],
    }),
    sql: 'SELECT uni, count(*), min(cat), max(cat) FROM data GROUP BY uni',
  },
  {
    name: 'one group for everything',
    query: aggregateQuery({
      groupBy: ['nothing'],
      aggregates: [
        { op: 'count' },
        { op: 'avg', column: 'big' },
        { op: 'count_distinct', column: 'day' },
      ],
    }),
    sql: 'SELECT nothing, count(*), avg(big), count(DISTINCT day) FROM data GROUP BY nothing',
  },
];

describe('aggregations equal DuckDB', () => {
  it.each(CASES)('$name', async ({ query, sql }) => {
    await expectOracle(oracle, path, query, sql, batches);
  });

  it('gives the same result with one map task and one partition', async () => {
    await expectOracle(oracle, path, EVERY_AGGREGATE, EVERY_AGGREGATE_SQL, batches, {
      maps: 1,
      partitions: 1,
    });
  });

  it('gives the same result over many map tasks and more partitions than groups', async () => {
    await expectOracle(oracle, path, EVERY_AGGREGATE, EVERY_AGGREGATE_SQL, batches, {
      maps: 7,
      partitions: 32,
    });
  });
});
