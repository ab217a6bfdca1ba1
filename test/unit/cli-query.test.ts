/** The expression parsers of `tm submit aggregate`: --agg, --filter, --order-by, --group-by. */
import { describe, expect, it } from 'vitest';
import { AggregateExpr, Filter } from '../../protocol/index.ts';
import { parseAgg, parseFilter, parseGroupBy, parseOrderBy, splitList } from '../../cli/query.ts';
import { UsageError } from '../../cli/exit.ts';

describe('parseAgg', () => {
  it.each([
    ['count(*)', { op: 'count' }],
    ['count()', { op: 'count' }],
    ['COUNT( * )', { op: 'count' }],
    ['count(id)', { op: 'count', column: 'id' }],
    ['sum(price)', { op: 'sum', column: 'price' }],
    ['avg(quantity) as avg_q', { op: 'avg', column: 'quantity', as: 'avg_q' }],
    ['max(price) AS "top price"', { op: 'max', column: 'price', as: 'top price' }],
    ['min("unit price")', { op: 'min', column: 'unit price' }],
    ['count(distinct product)', { op: 'count_distinct', column: 'product' }],
    [
      'count_distinct(product) as products',
      { op: 'count_distinct', column: 'product', as: 'products' },
    ],
  ])('%s', (text, expected) => {
    const agg = parseAgg(text);
    expect(agg).toEqual(expected);
    expect(AggregateExpr.safeParse(agg).success).toBe(true);
  });

  it.each(['sum', 'sum()', 'sum(*)', 'median(x)', 'sum(distinct x)', 'sum(x) as', 'sum(x) y', ''])(
    'rejects %j',
    (text) => expect(() => parseAgg(text)).toThrow(UsageError),
  );
});

describe('parseFilter', () => {
  it.each([
    ['quantity>=5', { column: 'quantity', op: '>=', value: 5 }],
    ['quantity >= 5', { column: 'quantity', op: '>=', value: 5 }],
    ['price < -1.5', { column: 'price', op: '<', value: -1.5 }],
    ["region = 'EU'", { column: 'region', op: '=', value: 'EU' }],
    ['region == EU', { column: 'region', op: '=', value: 'EU' }],
    ['region<>EU', { column: 'region', op: '!=', value: 'EU' }],
    ['region != "a b"', { column: 'region', op: '!=', value: 'a b' }],
    ["code = '007'", { column: 'code', op: '=', value: '007' }],
    ['flag = true', { column: 'flag', op: '=', value: true }],
    ['region in (EU, US, 3)', { column: 'region', op: 'in', value: ['EU', 'US', 3] }],
    ["region IN ('a,b', 'c')", { column: 'region', op: 'in', value: ['a,b', 'c'] }],
    ['tag is null', { column: 'tag', op: 'is null' }],
    ['tag IS NOT NULL', { column: 'tag', op: 'is not null' }],
    ['"unit price" > 2', { column: 'unit price', op: '>', value: 2 }],
    ['a.b=1', { column: 'a.b', op: '=', value: 1 }],
  ])('%s', (text, expected) => {
    const filter = parseFilter(text);
    expect(filter).toEqual(expected);
    expect(Filter.safeParse(filter).success).toBe(true);
  });

  it.each(['quantity', 'quantity >=', '>= 5', 'x ~ 3', 'x in ()', 'x is maybe null'])(
    'rejects %j',
    (text) => expect(() => parseFilter(text)).toThrow(UsageError),
  );
});

describe('parseOrderBy and parseGroupBy', () => {
  it('reads directions, a leading minus, and names with parentheses', () => {
    expect(parseOrderBy('revenue desc')).toEqual([{ column: 'revenue', desc: true }]);
    expect(parseOrderBy('region')).toEqual([{ column: 'region' }]);
    expect(parseOrderBy('region ASC')).toEqual([{ column: 'region' }]);
    expect(parseOrderBy('-revenue, region')).toEqual([
      { column: 'revenue', desc: true },
      { column: 'region' },
    ]);
    expect(parseOrderBy('sum(quantity) desc,count(*)')).toEqual([
      { column: 'sum(quantity)', desc: true },
      { column: 'count(*)' },
    ]);
  });

  it('splits group-by lists, repeated or comma separated', () => {
    expect(parseGroupBy(['region,product', 'day'])).toEqual(['region', 'product', 'day']);
    expect(parseGroupBy([' region , "a,b" '])).toEqual(['region', 'a,b']);
    expect(splitList('a, f(b, c), "d,e"')).toEqual(['a', 'f(b, c)', '"d,e"']);
  });
});
