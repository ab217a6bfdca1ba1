/** SQL text to an aggregate job's fields: what each supported clause maps onto. */
import { describe, expect, it } from 'vitest';
import { AggregateJobRequest } from '../../protocol/index.ts';
import { sqlAggregation } from '../../src/sql/sql-query.ts';

const STORES = [{ name: 'test-bucket', bucket: 'test-bucket', prefix: '' }];
const map = (sql: string) => sqlAggregation(sql, STORES);
const FROM = "FROM 's3://test-bucket/sales/'";

describe('the issue example', () => {
  it('maps onto source, filter, groupBy, aggregates, orderBy and limit', () => {
    const fields = map(
      "SELECT region, count(*), avg(price) FROM 's3://test-bucket/samples/sales/' WHERE quantity > 5 GROUP BY region ORDER BY 2 DESC LIMIT 10",
    );
    expect(fields).toEqual({
      source: { store: 'test-bucket', prefix: 'samples/sales/', format: 'parquet' },
      filter: [{ column: 'quantity', op: '>', value: 5 }],
      groupBy: ['region'],
      aggregates: [
        { op: 'count', as: 'count_star()' },
        { op: 'avg', column: 'price', as: 'avg(price)' },
      ],
      orderBy: [{ column: 'count_star()', desc: true }],
      limit: 10,
    });
    // What the Worker then checks it with.
    expect(AggregateJobRequest.safeParse({ kind: 'aggregate', ...fields }).success).toBe(true);
  });
});

describe('SELECT', () => {
  it('names unnamed aggregates as DuckDB does, and keeps AS names', () => {
    const { aggregates } = map(
      `SELECT count(*), COUNT(tag), count(DISTINCT tag), sum(n), MIN(day), max(v), avg("Price"), sum(n) AS total ${FROM}`,
    );
    expect(aggregates).toEqual([
      { op: 'count', as: 'count_star()' },
      { op: 'count', column: 'tag', as: 'count(tag)' },
      { op: 'count_distinct', column: 'tag', as: 'count(DISTINCT tag)' },
      { op: 'sum', column: 'n', as: 'sum(n)' },
      { op: 'min', column: 'day', as: 'min(day)' },
      { op: 'max', column: 'v', as: 'max(v)' },
      { op: 'avg', column: 'Price', as: 'avg("Price")' },
      { op: 'sum', column: 'n', as: 'total' },
    ]);
  });

  it('takes group keys by name or by position, in SELECT order', () => {
    const byName = map(`SELECT b, a, count(*) ${FROM} GROUP BY a, b`);
    const byPosition = map(`SELECT b, a, count(*) ${FROM} GROUP BY 2, 1`);
    expect(byName.groupBy).toEqual(['b', 'a']);
    expect(byPosition.groupBy).toEqual(['b', 'a']);
  });

  it('has no groupBy without GROUP BY', () => {
    expect(map(`SELECT count(*) ${FROM}`)).not.toHaveProperty('groupBy');
  });

  it('reads quoted names as written', () => {
    expect(map(`SELECT "Region", count(*) ${FROM} GROUP BY "Region"`).groupBy).toEqual(['Region']);
  });
});

describe('WHERE', () => {
  const where = (condition: string) =>
    map(`SELECT count(*) ${FROM} WHERE ${condition}`).filter ?? [];

  it('maps each comparison, <> and != alike', () => {
    expect(
      where("a = 1 AND b <> 'x' AND c != 2.5 AND d < -3 AND e <= 4 AND f > 5 AND g >= 6"),
    ).toEqual([
      { column: 'a', op: '=', value: 1 },
      { column: 'b', op: '!=', value: 'x' },
      { column: 'c', op: '!=', value: 2.5 },
      { column: 'd', op: '<', value: -3 },
      { column: 'e', op: '<=', value: 4 },
      { column: 'f', op: '>', value: 5 },
      { column: 'g', op: '>=', value: 6 },
    ]);
  });

  it('turns a literal on the left around', () => {
    expect(where('5 < k AND 1 >= j')).toEqual([
      { column: 'k', op: '>', value: 5 },
      { column: 'j', op: '<=', value: 1 },
    ]);
  });

  it('maps IN, BETWEEN (as two filters), IS NULL and IS NOT NULL', () => {
    expect(where("c IN ('a', 'b') AND v BETWEEN 1 AND 2 AND x IS NULL AND y IS NOT NULL")).toEqual([
      { column: 'c', op: 'in', value: ['a', 'b'] },
      { column: 'v', op: '>=', value: 1 },
      { column: 'v', op: '<=', value: 2 },
      { column: 'x', op: 'is null' },
      { column: 'y', op: 'is not null' },
    ]);
  });

  it('reads a bare column as that boolean being true', () => {
    expect(where('flag AND n = 1')).toEqual([
      { column: 'flag', op: '=', value: true },
      { column: 'n', op: '=', value: 1 },
    ]);
  });

  it('flattens parenthesised ANDs', () => {
    expect(where('(a = 1 AND (b = 2)) AND c = 3').map((f) => f.column)).toEqual(['a', 'b', 'c']);
  });

  it("reads literals: '' in strings, booleans, dates, timestamps, integers past 2^53 as text", () => {
    expect(
      where(
        "s = 'it''s' AND f = TRUE AND d >= DATE '2024-01-31' AND t < TIMESTAMP '2021-01-01 10:00:00' AND k = 9223372036854775807",
      ),
    ).toEqual([
      { column: 's', op: '=', value: "it's" },
      { column: 'f', op: '=', value: true },
      { column: 'd', op: '>=', value: '2024-01-31' },
      { column: 't', op: '<', value: '2021-01-01 10:00:00' },
      { column: 'k', op: '=', value: '9223372036854775807' },
    ]);
  });
});

describe('ORDER BY and LIMIT', () => {
  const order = (clause: string) =>
    map(`SELECT region, count(*) AS n, sum(v) ${FROM} GROUP BY region ORDER BY ${clause}`).orderBy;

  it('takes result columns by name, alias, position or the aggregate itself', () => {
    expect(order('region, n DESC, 3 ASC, count(*) DESC, sum(v)')).toEqual([
      { column: 'region' },
      { column: 'n', desc: true },
      { column: 'sum(v)' },
      { column: 'n', desc: true },
      { column: 'sum(v)' },
    ]);
  });

  it('accepts NULLS LAST, the order the job sorts NULLs in', () => {
    expect(order('n DESC NULLS LAST')).toEqual([{ column: 'n', desc: true }]);
  });

  it('maps LIMIT', () => {
    expect(map(`SELECT count(*) ${FROM} LIMIT 3`).limit).toBe(3);
  });
});
