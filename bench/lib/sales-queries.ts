/** The group-bys the aggregation benchmarks run on the sales data set, with DuckDB's SQL for each. */
import type { SubmitJobRequest } from '../../protocol/index.ts';

export type Aggregate = Extract<SubmitJobRequest, { kind: 'aggregate' }>;
export interface Query {
  name: string;
  request: Omit<Aggregate, 'kind' | 'source'>;
  sql: string;
}

export const QUERIES: Query[] = [
  {
    name: 'by region (9 groups, NULL one)',
    request: {
      groupBy: ['region'],
      aggregates: [
        { op: 'count' },
        { op: 'sum', column: 'price' },
        { op: 'avg', column: 'quantity' },
      ],
    },
    sql: 'SELECT region, count(*), sum(price), avg(quantity) FROM data GROUP BY region',
  },
  {
    name: 'by product (1,000 groups)',
    request: {
      groupBy: ['product'],
      aggregates: [
        { op: 'sum', column: 'quantity' },
        { op: 'max', column: 'price' },
      ],
    },
    sql: 'SELECT product, sum(quantity), max(price) FROM data GROUP BY product',
  },
  {
    name: 'by region, day (3,285 groups), filtered',
    request: {
      groupBy: ['region', 'day'],
      filter: [{ column: 'quantity', op: '>=', value: 5 }],
      aggregates: [{ op: 'count' }, { op: 'sum', column: 'price' }],
    },
    sql: 'SELECT region, day, count(*), sum(price) FROM data WHERE quantity >= 5 GROUP BY region, day',
  },
];
