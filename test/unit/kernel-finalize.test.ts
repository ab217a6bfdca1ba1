/** The final step orders and limits as DuckDB's ORDER BY and LIMIT do: NULLs last both ways, NaN above numbers. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Field,
  Int32,
  RecordBatch,
  Schema,
  Struct,
  Table,
  Utf8,
  Data,
  vectorFromArray,
  type RecordBatch as Batch,
} from 'apache-arrow';
import type { AggregateQuery, OrderBy } from '../../protocol/index.ts';
import { finalizeResult } from '../../worker-agent/aggregate/kernels/index.ts';
import {
  aggregateQuery,
  createOracle,
  expectSameRows,
  readBatches,
  runAggregation,
  tableCells,
  type Oracle,
} from './kernel-helpers.ts';
import { dataSql } from './kernel-data.ts';

let oracle: Oracle;
let path: string;
let batches: Batch[];

beforeAll(async () => {
  oracle = await createOracle();
  path = await oracle.write('order', dataSql(20_000));
  batches = readBatches(path);
}, 60_000);
afterAll(() => oracle?.close());

interface Case {
  name: string;
  query: AggregateQuery;
  orderBy: OrderBy[];
  limit?: number;
  sql: string;
}

const count = aggregateQuery({ groupBy: ['cat'], aggregates: [{ op: 'count', as: 'n' }] });

const CASES: Case[] = [
  {
    name: 'strings ascending, NULL last',
    query: count,
    orderBy: [{ column: 'cat' }],
    sql: 'SELECT cat, count(*) AS n FROM data GROUP BY cat ORDER BY cat',
  },
  {
    name: 'strings descending, NULL still last',
    query: count,
    orderBy: [{ column: 'cat', desc: true }],
    sql: 'SELECT cat, count(*) AS n FROM data GROUP BY cat ORDER BY cat DESC',
  },
  {
    name: 'two columns, a boolean descending with NULLs',
    query: aggregateQuery({ groupBy: ['flag', 'small'], aggregates: [{ op: 'count' }] }),
    orderBy: [{ column: 'flag', desc: true }, { column: 'small' }],
    sql: 'SELECT flag, small, count(*) FROM data GROUP BY flag, small ORDER BY flag DESC, small',
  },
  {
    name: 'Unicode strings by code point',
    query: aggregateQuery({ groupBy: ['uni'], aggregates: [{ op: 'count' }] }),
    orderBy: [{ column: 'uni' }],
    sql: 'SELECT uni, count(*) FROM data GROUP BY uni ORDER BY uni',
  },
  {
    name: 'int64 extremes descending, limited',
    query: aggregateQuery({ groupBy: ['big'], aggregates: [{ op: 'count' }] }),
    orderBy: [{ column: 'big', desc: true }],
    limit: 5,
    sql: 'SELECT big, count(*) FROM data GROUP BY big ORDER BY big DESC LIMIT 5',
  },
  {
    name: 'int64 extremes ascending, NULL after them',
    query: aggregateQuery({ groupBy: ['big'], aggregates: [{ op: 'count' }] }),
    orderBy: [{ column: 'big' }],
    sql: 'SELECT big, count(*) FROM data GROUP BY big ORDER BY big',
  },
  {
    name: 'an aggregate descending, top 3',
    query: aggregateQuery({
      groupBy: ['cat'],
      aggregates: [{ op: 'sum', column: 'v', as: 'total' }],
    }),
    orderBy: [{ column: 'total', desc: true }],
    limit: 3,
    sql: 'SELECT cat, sum(v) AS total FROM data GROUP BY cat ORDER BY total DESC LIMIT 3',
  },
  {
    name: 'timestamps descending, limited',
    query: aggregateQuery({ groupBy: ['ts'], aggregates: [{ op: 'count' }] }),
    orderBy: [{ column: 'ts', desc: true }],
    limit: 10,
    sql: 'SELECT ts, count(*) FROM data GROUP BY ts ORDER BY ts DESC LIMIT 10',
  },
  {
    name: 'dates and decimals',
    query: aggregateQuery({
      groupBy: ['day'],
      aggregates: [{ op: 'min', column: 'price', as: 'p' }],
    }),
    orderBy: [{ column: 'p' }, { column: 'day', desc: true }],
    limit: 20,
    sql: 'SELECT day, min(price) AS p FROM data GROUP BY day ORDER BY p, day DESC LIMIT 20',
  },
  {
    name: 'a limit beyond the rows',
    query: count,
    orderBy: [{ column: 'n' }, { column: 'cat' }],
    limit: 1000,
    sql: 'SELECT cat, count(*) AS n FROM data GROUP BY cat ORDER BY n, cat LIMIT 1000',
  },
];

describe('order and limit equal DuckDB', () => {
  it.each(CASES)('$name', async ({ query, orderBy, limit, sql }) => {
    const { result } = runAggregation(query, batches, {
      orderBy,
      ...(limit ? { limit } : {}),
      partitions: 5,
    });
    const expected = await oracle.rows(
      `WITH data AS (SELECT * FROM read_parquet('${path}')) ${sql}`,
    );
    expectSameRows(tableCells(result), expected, query.groupBy.length, true);
  });

  it.each([false, true])(
    'NaN sorts above numbers and below NULL (descending: %s)',
    async (desc) => {
      const nan = await oracle.write(
        'nan',
        `SELECT i % 10 AS g, CASE WHEN i % 10 = 3 THEN 'nan'::DOUBLE WHEN i % 10 = 4 THEN NULL ELSE i::DOUBLE END AS x FROM range(0, 100) r(i)`,
      );
      const query = aggregateQuery({
        groupBy: ['g'],
        aggregates: [{ op: 'max', column: 'x', as: 'm' }],
      });
      const { result } = runAggregation(query, readBatches(nan, 16), {
        orderBy: [{ column: 'm', desc }],
      });
      const expected = await oracle.rows(
        `SELECT g, max(x) AS m FROM read_parquet('${nan}') GROUP BY g ORDER BY m${desc ? ' DESC' : ''}`,
      );
      expectSameRows(tableCells(result), expected, 1, true);
    },
  );

  it('a limit without order keeps that many of the rows', async () => {
    const { result } = runAggregation(count, batches, { limit: 4 });
    const all = tableCells(runAggregation(count, batches).result).map((row) => JSON.stringify(row));
    expect(result.numRows).toBe(4);
    for (const row of tableCells(result)) expect(all).toContain(JSON.stringify(row));
  });
});

describe('finalizeResult', () => {
  const table = (keys: (string | null)[], tags: number[]) => {
    const fields = [new Field('k', new Utf8(), true), new Field('tag', new Int32(), true)];
    const columns = [
      vectorFromArray(keys, new Utf8()).data[0]!,
      vectorFromArray(tags, new Int32()).data[0]!,
    ];
    return new Table([
      new RecordBatch(
        new Schema(fields),
        new Data(new Struct(fields), 0, keys.length, 0, undefined, columns),
      ),
    ]);
  };

  it('sorts stably: ties keep the order the tables came in', () => {
    const result = finalizeResult(
      [table(['b', 'a', null, 'a'], [1, 2, 3, 4]), table(['a', 'b', null], [5, 6, 7])],
      [{ column: 'k' }],
    );
    expect(tableCells(result)).toEqual([
      ['a', 2],
      ['a', 4],
      ['a', 5],
      ['b', 1],
      ['b', 6],
      [null, 3],
      [null, 7],
    ]);
  });

  it('concatenates without ordering, and limits to the first rows', () => {
    expect(tableCells(finalizeResult([table(['x'], [1]), table(['y', 'z'], [2, 3])]))).toEqual([
      ['x', 1],
      ['y', 2],
      ['z', 3],
    ]);
    expect(
      tableCells(finalizeResult([table(['x'], [1]), table(['y', 'z'], [2, 3])], undefined, 2)),
    ).toEqual([
      ['x', 1],
      ['y', 2],
    ]);
  });
});
