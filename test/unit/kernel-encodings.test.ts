/** The same values in other Arrow encodings (dictionaries, LargeUtf8, Date64, timestamp units) aggregate alike, with documented result types. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataType, Int16, Int8, TimeUnit, type RecordBatch } from 'apache-arrow';
import {
  aggregateQuery,
  createOracle,
  expectOracle,
  readBatches,
  runAggregation,
  type Oracle,
} from './kernel-helpers.ts';
import { convert, mapColumn } from './kernel-encodings.ts';
import { EVERY_AGGREGATE, EVERY_AGGREGATE_SQL, dataSql } from './kernel-data.ts';

let oracle: Oracle;
let path: string;
let batches: RecordBatch[];

beforeAll(async () => {
  oracle = await createOracle();
  path = await oracle.write('encodings', dataSql(30_000));
  batches = readBatches(path);
}, 60_000);
afterAll(() => oracle?.close());

describe('other encodings of the same values', () => {
  const dictionaries = () => {
    let input = mapColumn(batches, 'cat', convert.dictionary(new Int8()));
    input = mapColumn(input, 'uni', convert.dictionary());
    return mapColumn(input, 'user_id', convert.dictionary(new Int16()));
  };

  it('dictionary-encoded strings as keys and values (unused entries make no groups)', async () => {
    const input = dictionaries();
    expect(
      DataType.isDictionary(input[0]!.schema.fields.find((field) => field.name === 'cat')!.type),
    ).toBe(true);
    const { result } = await expectOracle(
      oracle,
      path,
      EVERY_AGGREGATE,
      EVERY_AGGREGATE_SQL,
      input,
    );
    expect(result.schema.fields[0]!.type.toString()).toBe('Utf8');
    await expectOracle(
      oracle,
      path,
      aggregateQuery({
        groupBy: ['uni'],
        aggregates: [{ op: 'count' }, { op: 'max', column: 'cat' }],
      }),
      'SELECT uni, count(*), max(cat) FROM data GROUP BY uni',
      input,
    );
  });

  it('dictionary strings as one of several keys', async () => {
    await expectOracle(
      oracle,
      path,
      aggregateQuery({
        groupBy: ['cat', 'small'],
        aggregates: [{ op: 'count' }, { op: 'count_distinct', column: 'user_id' }],
      }),
      'SELECT cat, small, count(*), count(DISTINCT user_id) FROM data GROUP BY cat, small',
      dictionaries(),
    );
  });

  it('LargeUtf8 strings and Date64 dates', async () => {
    let input = mapColumn(batches, 'user_id', convert.largeUtf8);
    input = mapColumn(input, 'day', convert.date64);
    await expectOracle(
      oracle,
      path,
      aggregateQuery({
        groupBy: ['user_id', 'day'],
        aggregates: [
          { op: 'count' },
          { op: 'max', column: 'day' },
          { op: 'min', column: 'user_id' },
        ],
      }),
      'SELECT user_id, day, count(*), max(day), min(user_id) FROM data GROUP BY user_id, day',
      input,
    );
  });

  it.each([
    ['seconds', TimeUnit.SECOND, null],
    ['milliseconds with a time zone', TimeUnit.MILLISECOND, 'UTC'],
    ['nanoseconds', TimeUnit.NANOSECOND, null],
  ] as const)('timestamps in %s', async (_name, unit, zone) => {
    const { result } = await expectOracle(
      oracle,
      path,
      aggregateQuery({
        groupBy: ['ts'],
        aggregates: [{ op: 'count' }, { op: 'min', column: 'ts' }, { op: 'max', column: 'ts' }],
      }),
      'SELECT ts, count(*), min(ts), max(ts) FROM data GROUP BY ts',
      mapColumn(batches, 'ts', convert.timestamp(unit, zone)),
    );
    expect(result.schema.fields[0]!.type.toString()).toBe(result.schema.fields[2]!.type.toString());
  });
});

describe('result types', () => {
  it('keeps key types, decodes dictionaries, and types each aggregate as documented', () => {
    const query = aggregateQuery({
      groupBy: ['cat', 'big', 'day', 'flag', 'price', 'ts'],
      aggregates: [
        { op: 'count' },
        { op: 'count_distinct', column: 'uni' },
        { op: 'sum', column: 'tiny' },
        { op: 'sum', column: 'v' },
        { op: 'sum', column: 'price' },
        { op: 'avg', column: 'small' },
        { op: 'min', column: 'tiny' },
        { op: 'max', column: 'price' },
        { op: 'max', column: 'uni' },
        { op: 'min', column: 'u64' },
      ],
    });
    const { result } = runAggregation(
      query,
      mapColumn(batches.slice(0, 2), 'cat', convert.dictionary()),
    );
    expect(result.schema.fields.map((field) => `${field.name}: ${field.type}`)).toEqual([
      'cat: Utf8',
      'big: Int64',
      'day: Date32<DAY>',
      'flag: Bool',
      'price: Float64',
      'ts: Timestamp<MICROSECOND>',
      'count(*): Int64',
      'count_distinct(uni): Int64',
      'sum(tiny): Int64',
      'sum(v): Float64',
      'sum(price): Float64',
      'avg(small): Float64',
      'min(tiny): Int8',
      'max(price): Float64',
      'max(uni): Utf8',
      'min(u64): Uint64',
    ]);
  });
});
