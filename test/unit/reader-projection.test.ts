/** Column projection: only the columns a query needs are decoded from Parquet. */
import { describe, expect, it } from 'vitest';
import { projection } from '../../worker-agent/aggregate/readers/parquet.ts';
import { queryColumns } from '../../worker-agent/executors/aggregate-map.ts';

describe('queryColumns', () => {
  it('collects group keys, filtered and aggregated columns once each', () => {
    expect(
      queryColumns({
        groupBy: ['region', 'day'],
        filter: [
          { column: 'quantity', op: '>=', value: 5 },
          { column: 'region', op: 'is not null' },
        ],
        aggregates: [
          { op: 'count' },
          { op: 'sum', column: 'price' },
          { op: 'max', column: 'quantity' },
        ],
      }),
    ).toEqual(['region', 'day', 'quantity', 'price']);
    expect(queryColumns({ groupBy: [], filter: [], aggregates: [{ op: 'count' }] })).toEqual([]);
  });
});

describe('projection', () => {
  const file = ['region', 'product', 'quantity', 'price', 'day'];

  it('keeps the wanted columns the file has, in the file’s order', () => {
    expect(projection(file, ['price', 'region'])).toEqual(['region', 'price']);
  });

  it('leaves unknown names for the aggregation to report, and reads all when not told', () => {
    expect(projection(file, ['price', 'nope'])).toEqual(['price']);
    expect(projection(file, undefined)).toBeUndefined();
  });

  it('reads one column for a query that needs none, so rows can still be counted', () => {
    expect(projection(file, [])).toEqual(['region']);
    expect(projection(file, ['nope'])).toEqual(['region']);
  });
});
