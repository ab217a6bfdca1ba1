/** The aggregate job request schema: what it accepts and the clear errors it gives. */
import { describe, expect, it } from 'vitest';
import { aggregateName, SubmitJobRequest } from '../../protocol/index.ts';

const base = {
  kind: 'aggregate',
  source: { store: 'test-bucket', format: 'parquet' },
  aggregates: [{ op: 'count' }],
};
const messages = (value: unknown) => {
  const result = SubmitJobRequest.safeParse(value);
  return result.success ? [] : result.error.issues.map((issue) => issue.message);
};

describe('AggregateJobRequest', () => {
  it('accepts a full query', () => {
    expect(
      messages({
        ...base,
        source: { store: 'test-bucket', prefix: 'sales/', format: 'csv' },
        filter: [
          { column: 'region', op: 'in', value: ['eu', 'us'] },
          { column: 'amount', op: '>=', value: 10 },
          { column: 'note', op: 'is null' },
        ],
        groupBy: ['region', 'day'],
        aggregates: [
          { op: 'count' },
          { op: 'sum', column: 'amount', as: 'total' },
          { op: 'count_distinct', column: 'user' },
        ],
        orderBy: [{ column: 'total', desc: true }],
        limit: 10,
        partitions: 8,
        output: { store: 'test-bucket', prefix: 'results/q1' },
      }),
    ).toEqual([]);
  });

  it('rejects filters whose value does not fit the operator', () => {
    expect(
      messages({ ...base, filter: [{ column: 'a', op: 'is null', value: 1 }] }).join(),
    ).toMatch(/takes no value/);
    expect(messages({ ...base, filter: [{ column: 'a', op: '=' }] }).join()).toMatch(
      /needs a value/,
    );
    expect(messages({ ...base, filter: [{ column: 'a', op: 'in', value: 1 }] }).join()).toMatch(
      /list of values/,
    );
    expect(messages({ ...base, filter: [{ column: 'a', op: '<', value: [1, 2] }] }).join()).toMatch(
      /one value/,
    );
    expect(messages({ ...base, filter: [{ column: 'a', op: 'like', value: 'x' }] })).not.toEqual(
      [],
    );
  });

  it('needs a column for every aggregate but count, and distinct output names', () => {
    expect(messages({ ...base, aggregates: [{ op: 'sum' }] }).join()).toMatch(
      /only count may omit/,
    );
    expect(
      messages({
        ...base,
        aggregates: [
          { op: 'sum', column: 'x' },
          { op: 'sum', column: 'x' },
        ],
      }).join(),
    ).toMatch(/distinct/);
    expect(messages({ ...base, aggregates: [] })).not.toEqual([]);
    expect(
      messages({ ...base, groupBy: ['x'], aggregates: [{ op: 'count', as: 'x' }] }).join(),
    ).toMatch(/two columns named "x"/);
    expect(messages({ ...base, groupBy: ['x', 'x'] }).join()).toMatch(/two columns named "x"/);
  });

  it('orders only by columns of the result', () => {
    const ordered = (column: string) =>
      messages({
        ...base,
        groupBy: ['region'],
        aggregates: [{ op: 'sum', column: 'amount', as: 'total' }, { op: 'count' }],
        orderBy: [{ column }],
      });
    for (const column of ['region', 'total', 'count(*)']) expect(ordered(column)).toEqual([]);
    expect(ordered('amount').join()).toMatch(
      /orderBy column "amount" is not a column of the result \("region", "total", "count\(\*\)"\)/,
    );
  });

  it('rejects both a prefix and paths, unknown formats and unknown fields', () => {
    expect(
      messages({
        ...base,
        source: { store: 's', prefix: 'a/', paths: ['b'], format: 'csv' },
      }).join(),
    ).toMatch(/not both/);
    expect(messages({ ...base, source: { store: 's', format: 'xlsx' } })).not.toEqual([]);
    expect(messages({ ...base, having: 'x' })).not.toEqual([]);
  });

  it('names aggregates as op(column) unless told otherwise', () => {
    expect(aggregateName({ op: 'count' })).toBe('count(*)');
    expect(aggregateName({ op: 'avg', column: 'v' })).toBe('avg(v)');
    expect(aggregateName({ op: 'avg', column: 'v', as: 'mean' })).toBe('mean');
  });
});
