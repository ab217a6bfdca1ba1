/** Filters keep exactly the rows DuckDB's WHERE keeps, for every operator and column type, NULLs never comparing. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TimeUnit, type RecordBatch } from 'apache-arrow';
import type { Filter } from '../../protocol/index.ts';
import {
  aggregateQuery,
  createOracle,
  expectSameRows,
  readBatches,
  runAggregation,
  tableCells,
  type Oracle,
} from './kernel-helpers.ts';
import { convert, mapColumn } from './kernel-encodings.ts';
import { dataSql } from './kernel-data.ts';

let oracle: Oracle;
let path: string;
let batches: RecordBatch[];

beforeAll(async () => {
  oracle = await createOracle();
  path = await oracle.write('filters', dataSql(20_000));
  batches = readBatches(path, 3000);
}, 60_000);
afterAll(() => oracle?.close());

const MAX = '9223372036854775807';
const MIN = '-9223372036854775808';

/** Filters and the equivalent SQL WHERE clause. */
const CASES: [string, Filter[], string][] = [
  ['double >', [{ column: 'v', op: '>', value: 100 }], 'v > 100'],
  ['double <= with a fraction', [{ column: 'v', op: '<=', value: -12.5 }], 'v <= -12.5'],
  ['int =', [{ column: 'small', op: '=', value: 3 }], 'small = 3'],
  ['int !=', [{ column: 'small', op: '!=', value: 3 }], 'small != 3'],
  ['int <', [{ column: 'small', op: '<', value: 2 }], 'small < 2'],
  ['int > a fraction', [{ column: 'small', op: '>', value: 2.5 }], 'small > 2.5'],
  ['int >= a numeric string', [{ column: 'small', op: '>=', value: '3' }], 'small >= 3'],
  [
    'tinyint in, with a fraction that matches nothing',
    [{ column: 'tiny', op: 'in', value: [-3, 0, 7, 1.5] }],
    'tiny IN (-3, 0, 7, 1.5)',
  ],
  ['is null', [{ column: 'tiny', op: 'is null' }], 'tiny IS NULL'],
  ['is not null', [{ column: 'tiny', op: 'is not null' }], 'tiny IS NOT NULL'],
  ['int64 = max, as a string', [{ column: 'big', op: '=', value: MAX }], `big = ${MAX}`],
  ['int64 != max', [{ column: 'big', op: '!=', value: MAX }], `big != ${MAX}`],
  ['int64 > -max', [{ column: 'big', op: '>', value: `-${MAX}` }], `big > -${MAX}`],
  ['int64 = min, as a string', [{ column: 'big', op: '=', value: MIN }], `big = ${MIN}`],
  ['int64 <= min', [{ column: 'big', op: '<=', value: MIN }], `big <= ${MIN}`],
  ['int64 < 0', [{ column: 'big', op: '<', value: 0 }], 'big < 0'],
  ['int64 >= a fraction', [{ column: 'big', op: '>=', value: 2.5 }], 'big >= 2.5'],
  ['int64 < a fraction', [{ column: 'big', op: '<', value: -2.5 }], 'big < -2.5'],
  ['int64 = a fraction', [{ column: 'big', op: '=', value: 2.5 }], 'big = 2.5'],
  ['int64 <= beyond its range', [{ column: 'big', op: '<=', value: 1e20 }], 'big <= 1e20'],
  ['int64 > beyond its range', [{ column: 'big', op: '>', value: 1e20 }], 'big > 1e20'],
  [
    'int64 in',
    [{ column: 'big', op: 'in', value: [MAX, -500, 3.5, '-17'] }],
    `big IN (${MAX}, -500, 3.5, -17)`,
  ],
  [
    'uint64 > beyond int64',
    [{ column: 'u64', op: '>', value: '10000000000000000000' }],
    'u64 > 10000000000000000000',
  ],
  [
    'uint64 in',
    [{ column: 'u64', op: 'in', value: [0, '15000000000000000000'] }],
    'u64 IN (0, 15000000000000000000)',
  ],
  ['string =', [{ column: 'cat', op: '=', value: 'cat-3' }], `cat = 'cat-3'`],
  ['string !=', [{ column: 'cat', op: '!=', value: 'cat-3' }], `cat != 'cat-3'`],
  ['string <', [{ column: 'cat', op: '<', value: 'cat-3' }], `cat < 'cat-3'`],
  [
    'string in',
    [{ column: 'cat', op: 'in', value: ['cat-1', 'cat-5', 'nope'] }],
    `cat IN ('cat-1', 'cat-5', 'nope')`,
  ],
  ['string is null', [{ column: 'cat', op: 'is null' }], 'cat IS NULL'],
  ['Unicode by UTF-8 bytes', [{ column: 'uni', op: '>', value: 'z' }], `uni > 'z'`],
  ['the empty string', [{ column: 'uni', op: '=', value: '' }], `uni = ''`],
  ['boolean =', [{ column: 'flag', op: '=', value: true }], 'flag = true'],
  ['boolean !=', [{ column: 'flag', op: '!=', value: false }], 'flag != false'],
  ['date >=', [{ column: 'day', op: '>=', value: '2020-06-01' }], `day >= DATE '2020-06-01'`],
  [
    'date in',
    [{ column: 'day', op: 'in', value: ['2020-01-01', '2020-02-29'] }],
    `day IN (DATE '2020-01-01', DATE '2020-02-29')`,
  ],
  [
    'timestamp >',
    [{ column: 'ts', op: '>', value: '2021-01-01T00:30:00' }],
    `ts > TIMESTAMP '2021-01-01 00:30:00'`,
  ],
  [
    'timestamp <= with a fraction',
    [{ column: 'ts', op: '<=', value: '2021-01-01 01:00:00.5' }],
    `ts <= TIMESTAMP '2021-01-01 01:00:00.5'`,
  ],
  [
    'timestamp = in UTC',
    [{ column: 'ts', op: '=', value: '2021-01-01T00:00:10Z' }],
    `ts = TIMESTAMP '2021-01-01 00:00:10'`,
  ],
  [
    'timestamp with an offset',
    [{ column: 'ts', op: '>=', value: '2021-01-01T01:00:00+01:00' }],
    `ts >= TIMESTAMP '2021-01-01 00:00:00'`,
  ],
  [
    'timestamp given as a date',
    [{ column: 'ts', op: '<', value: '2021-01-01' }],
    `ts < TIMESTAMP '2021-01-01'`,
  ],
  ['decimal >', [{ column: 'price', op: '>', value: 50.5 }], 'price > 50.5'],
  ['decimal = a numeric string', [{ column: 'price', op: '=', value: '12.34' }], 'price = 12.34'],
  ['decimal in', [{ column: 'price', op: 'in', value: [1.5, -2.25] }], 'price IN (1.5, -2.25)'],
  ['float32 <', [{ column: 'f32', op: '<', value: 1 }], 'f32 < 1'],
  ['NaN compares above numbers', [{ column: 'nanv', op: '>', value: 5 }], 'nanv > 5'],
  ['NaN is not equal to a number', [{ column: 'nanv', op: '!=', value: 4 }], 'nanv != 4'],
  ['an all-NULL column', [{ column: 'nothing', op: '=', value: 3 }], 'nothing = 3'],
  ['an all-NULL column is null', [{ column: 'nothing', op: 'is null' }], 'nothing IS NULL'],
  [
    'several filters are AND-ed',
    [
      { column: 'v', op: '>', value: 0 },
      { column: 'cat', op: 'in', value: ['cat-1', 'cat-2'] },
      { column: 'flag', op: 'is not null' },
    ],
    `v > 0 AND cat IN ('cat-1', 'cat-2') AND flag IS NOT NULL`,
  ],
];

const query = (filter: Filter[]) =>
  aggregateQuery({
    filter,
    groupBy: ['small'],
    aggregates: [
      { op: 'count' },
      { op: 'sum', column: 'id' },
      { op: 'min', column: 'id' },
      // Columns without NULLs: the sums' filtered fast paths.
      { op: 'sum', column: 'f32' },
      { op: 'sum', column: 'small' },
    ],
  });

async function expectFilter(filter: Filter[], where: string, input: RecordBatch[]) {
  const { result, rowsMatched } = runAggregation(query(filter), input);
  const expected = await oracle.rows(
    `SELECT small, count(*), sum(id), min(id), sum(f32), sum(small) FROM read_parquet('${path}') WHERE ${where} GROUP BY small`,
  );
  expectSameRows(tableCells(result), expected, 1);
  const counted = await oracle.rows(`SELECT count(*) FROM read_parquet('${path}') WHERE ${where}`);
  expect(String(rowsMatched)).toBe(counted[0]![0]);
}

describe('filters equal DuckDB WHERE', () => {
  it.each(CASES)('%s', async (_name, filter, where) => {
    await expectFilter(filter, where, batches);
  });
});

describe('filters over other encodings', () => {
  const strings = CASES.filter(([, filter]) =>
    filter.some((f) => f.column === 'cat' || f.column === 'uni'),
  );
  it.each(strings)('dictionary strings: %s', async (_name, filter, where) => {
    let input = mapColumn(batches, 'cat', convert.dictionary());
    input = mapColumn(input, 'uni', convert.dictionary());
    await expectFilter(filter, where, input);
  });

  it.each(strings)('LargeUtf8 strings: %s', async (_name, filter, where) => {
    await expectFilter(
      filter,
      where,
      mapColumn(mapColumn(batches, 'cat', convert.largeUtf8), 'uni', convert.largeUtf8),
    );
  });

  const dates = CASES.filter(([, filter]) => filter.some((f) => f.column === 'day'));
  it.each(dates)('Date64: %s', async (_name, filter, where) => {
    await expectFilter(filter, where, mapColumn(batches, 'day', convert.date64));
  });

  const times = CASES.filter(([, filter]) => filter.some((f) => f.column === 'ts'));
  it.each(times)('second and nanosecond timestamps: %s', async (_name, filter, where) => {
    await expectFilter(filter, where, mapColumn(batches, 'ts', convert.timestamp(TimeUnit.SECOND)));
    await expectFilter(
      filter,
      where,
      mapColumn(batches, 'ts', convert.timestamp(TimeUnit.NANOSECOND, 'UTC')),
    );
  });
});

describe('filtered group-bys by every kind of key code', () => {
  // A filter that keeps an uneven half of the rows, so that each group of four selected rows mixes
  // keys, NULL ones among them.
  const filter: Filter[] = [{ column: 'v', op: '>', value: 0 }];
  const cases: [string, string, (input: RecordBatch[]) => RecordBatch[]][] = [
    [
      'NULL-able dictionary strings',
      'cat',
      (input) => mapColumn(input, 'cat', convert.dictionary()),
    ],
    [
      'dictionary strings without NULLs',
      'uni',
      (input) => mapColumn(input, 'uni', convert.dictionary()),
    ],
    ['NULL-able small integers', 'tiny', (input) => input],
    ['dates without NULLs', 'day', (input) => input],
  ];
  it.each(cases)('%s', async (_name, key, encode) => {
    const grouped = aggregateQuery({
      filter,
      groupBy: [key],
      aggregates: [{ op: 'count' }, { op: 'sum', column: 'id' }],
    });
    const { result } = runAggregation(grouped, encode(batches));
    const expected = await oracle.rows(
      `SELECT ${key}, count(*), sum(id) FROM read_parquet('${path}') WHERE v > 0 GROUP BY ${key}`,
    );
    expectSameRows(tableCells(result), expected, 1);
  });
});
