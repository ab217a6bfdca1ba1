/** Every bad query or bad data ends in a KernelError that names the column (or aggregate) at fault. */
import { describe, expect, it } from 'vitest';
import {
  Bool,
  Data,
  DataType,
  DateDay,
  TimestampMillisecond,
  Field,
  Float64,
  Int32,
  Int64,
  List,
  RecordBatch,
  Schema,
  Struct,
  Table,
  TimeMillisecond,
  Utf8,
  vectorFromArray,
} from 'apache-arrow';
import type { AggregateQuery, Filter } from '../../protocol/index.ts';
import {
  KernelError,
  createMapAggregator,
  finalizeResult,
  mergePartitions,
} from '../../worker-agent/aggregate/kernels/index.ts';
import { aggregateQuery } from './kernel-helpers.ts';

/** A batch of typed columns from JS arrays. */
function batchOf(columns: Record<string, { type: DataType; values: unknown[] }>): RecordBatch {
  const fields = Object.entries(columns).map(([name, { type }]) => new Field(name, type, true));
  const data = Object.values(columns).map(
    ({ type, values }) => vectorFromArray(values, type).data[0]!,
  );
  const length = data[0]!.length;
  return new RecordBatch(
    new Schema(fields),
    new Data(new Struct(fields), 0, length, 0, undefined, data),
  );
}

const batch = () =>
  batchOf({
    id: { type: new Int32(), values: [1, 2, 3] },
    name: { type: new Utf8(), values: ['a', 'b', null] },
    amount: { type: new Float64(), values: [1.5, null, 3] },
    flag: { type: new Bool(), values: [true, false, null] },
    at: { type: new TimeMillisecond(), values: [1000, 2000, 3000] },
  });

function kernelError(run: () => unknown): KernelError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(KernelError);
    return error as KernelError;
  }
  throw new Error('expected a KernelError');
}

const mapOnce =
  (query: AggregateQuery, input = batch()) =>
  () =>
    createMapAggregator(query, 4).add(input);

describe('schema errors, on the first batch', () => {
  it.each([
    ['a group-by column', aggregateQuery({ groupBy: ['nope'], aggregates: [{ op: 'count' }] })],
    ['an aggregate column', aggregateQuery({ aggregates: [{ op: 'max', column: 'nope' }] })],
    [
      'a filter column',
      aggregateQuery({
        filter: [{ column: 'nope', op: 'is null' }],
        aggregates: [{ op: 'count' }],
      }),
    ],
  ])('an unknown column in %s names it and lists the columns', (_name, query) => {
    const error = kernelError(mapOnce(query));
    expect(error.column).toBe('nope');
    expect(error.message).toContain('"nope"');
    expect(error.message).toContain('available columns: id, name, amount, flag, at');
  });

  it('checks even a first batch without rows', () => {
    const empty = batch().slice(0, 0);
    expect(empty.numRows).toBe(0);
    expect(
      kernelError(
        mapOnce(aggregateQuery({ groupBy: ['nope'], aggregates: [{ op: 'count' }] }), empty),
      ).column,
    ).toBe('nope');
  });

  it.each([
    ['sum', 'name', 'Utf8'],
    ['avg', 'name', 'Utf8'],
    ['sum', 'flag', 'Bool'],
    ['avg', 'at', 'Time32<MILLISECOND>'],
  ] as const)('%s over %s (%s) is refused', (op, column, type) => {
    const error = kernelError(mapOnce(aggregateQuery({ aggregates: [{ op, column }] })));
    expect(error.column).toBe(column);
    expect(error.message).toContain(`${op}(${column})`);
    expect(error.message).toContain(type);
  });

  it.each(['day', 'ts'])('sum and avg over %s (a date or timestamp) are refused', (column) => {
    const input = batchOf({
      day: { type: new DateDay(), values: [new Date(0)] },
      ts: { type: new TimestampMillisecond(), values: [0] },
    });
    for (const op of ['sum', 'avg'] as const) {
      const error = kernelError(mapOnce(aggregateQuery({ aggregates: [{ op, column }] }), input));
      expect(error.column).toBe(column);
      expect(error.message).toContain(`${op}(${column})`);
    }
  });

  it('refuses a column type it cannot read, naming the column', () => {
    const lists = vectorFromArray([[1], [2, 3]], new List(new Field('item', new Int32(), true)));
    const fields = [new Field('xs', lists.type, true)];
    const input = new RecordBatch(
      new Schema(fields),
      new Data(new Struct(fields), 0, 2, 0, undefined, [lists.data[0]!]),
    );
    const error = kernelError(
      mapOnce(aggregateQuery({ groupBy: ['xs'], aggregates: [{ op: 'count' }] }), input),
    );
    expect(error.column).toBe('xs');
    expect(error.message).toContain('List');
  });

  it('refuses a column that changes type between batches', () => {
    const map = createMapAggregator(
      aggregateQuery({ groupBy: ['id'], aggregates: [{ op: 'count' }] }),
      2,
    );
    map.add(batchOf({ id: { type: new Int32(), values: [1] } }));
    const error = kernelError(() => map.add(batchOf({ id: { type: new Int64(), values: [1n] } })));
    expect(error.column).toBe('id');
    expect(error.message).toMatch(/Int32.*Int64/);
  });
});

describe('filter values of the wrong type', () => {
  it.each<[string, Filter]>([
    ['a word for an int column', { column: 'id', op: '=', value: 'abc' }],
    ['a boolean for an int column', { column: 'id', op: '>', value: true }],
    ['a number for a string column', { column: 'name', op: '=', value: 5 }],
    ['a number in a string list', { column: 'name', op: 'in', value: ['a', 5] }],
    ['a word for a boolean column', { column: 'flag', op: '=', value: 'yes' }],
    ['a number for a double column given as words', { column: 'amount', op: '<', value: 'lots' }],
    ['any value for a time column', { column: 'at', op: '>', value: '10:00:00' }],
  ])('%s', (_name, filter) => {
    const error = kernelError(
      mapOnce(aggregateQuery({ filter: [filter], aggregates: [{ op: 'count' }] })),
    );
    expect(error.column).toBe(filter.column);
    expect(error.message).toContain(`"${filter.column}"`);
  });

  it('refuses malformed dates and timestamps', () => {
    const input = batchOf({
      day: { type: new DateDay(), values: [new Date(0)] },
      ts: { type: new TimestampMillisecond(), values: [0] },
    });
    const bad: [string, string | number | boolean][] = [
      ['day', '2020-13-01'],
      ['day', '2020-02-30'],
      ['day', '2020-01-01T10:00:00'],
      ['day', 7],
      ['ts', 'yesterday'],
      ['ts', '2021-01-01T25:00:00'],
      ['ts', 1_600_000_000],
      ['ts', true],
    ];
    for (const [column, value] of bad) {
      const query = aggregateQuery({
        filter: [{ column, op: '=', value }],
        aggregates: [{ op: 'count' }],
      });
      expect(kernelError(mapOnce(query, input)).column).toBe(column);
    }
  });
});

describe('reduce and final errors', () => {
  const query = aggregateQuery({ groupBy: ['id'], aggregates: [{ op: 'sum', column: 'big' }] });
  const big = (values: bigint[]) =>
    batchOf({
      id: { type: new Int32(), values: values.map(() => 1) },
      big: { type: new Int64(), values },
    });

  it('a sum beyond int64 fails, naming the aggregate', () => {
    const map = createMapAggregator(query, 1);
    map.add(big([2n ** 62n, 2n ** 62n, 2n ** 62n]));
    const [partial] = map.finish();
    const error = kernelError(() => mergePartitions(query, [partial!.table]));
    expect(error.message).toContain('sum(big)');
    expect(error.message).toContain('overflows');
  });

  it('refuses tables that are not partials, and partials of another query', () => {
    const plain = new Table(batch());
    expect(kernelError(() => mergePartitions(query, [plain])).message).toContain(
      'not an aggregation partial',
    );
    const other = createMapAggregator(
      aggregateQuery({ groupBy: ['id'], aggregates: [{ op: 'count' }] }),
      1,
    );
    other.add(big([1n]));
    expect(kernelError(() => mergePartitions(query, [other.finish()[0]!.table])).message).toContain(
      'does not match',
    );
  });

  it('an unknown orderBy column names it', () => {
    const error = kernelError(() => finalizeResult([new Table(batch())], [{ column: 'nope' }]));
    expect(error.column).toBe('nope');
    expect(error.message).toContain('id, name, amount, flag, at');
  });

  it('needs at least one table and a positive partition count', () => {
    expect(kernelError(() => finalizeResult([])).message).toContain('no result tables');
    expect(kernelError(() => createMapAggregator(query, 0)).message).toContain('partitions');
  });
});
