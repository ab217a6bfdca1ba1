/** The kernel tests' shared data set: every supported type, NULLs, int64 extremes, NaN, Unicode and empty strings. */
import { aggregateQuery } from './kernel-helpers.ts';

/** DuckDB SQL for `rows` rows of the data set. */
export function dataSql(rows: number): string {
  return `SELECT
    i AS id,
    CASE WHEN i % 11 = 0 THEN NULL ELSE 'cat-' || (i % 7) END AS cat,
    (i % 5)::INTEGER AS small,
    CASE WHEN i % 13 = 0 THEN NULL ELSE (i % 50) - 25 END::TINYINT AS tiny,
    CASE WHEN i % 50 = 0 THEN 9223372036854775807 WHEN i % 50 = 1 THEN -9223372036854775808
         WHEN i % 50 = 2 THEN NULL ELSE (i % 1000) - 500 END::BIGINT AS big,
    CASE WHEN i % 17 = 0 THEN NULL ELSE (i * 0.37 - 5000) / 7 END::DOUBLE AS v,
    CASE WHEN i % 19 = 0 THEN NULL ELSE i % 3 = 0 END AS flag,
    DATE '2020-01-01' + (i % 400)::INTEGER AS day,
    CASE WHEN i % 23 = 0 THEN NULL ELSE TIMESTAMP '2021-01-01 00:00:00' + to_seconds(i % 5000) END AS ts,
    CASE WHEN i % 29 = 0 THEN NULL ELSE ((i % 20000) - 10000) / 100 END::DECIMAL(12,2) AS price,
    ((i * 1000003) % 1000000007)::BIGINT * 1000 AS wide,
    (i % 300)::UINTEGER AS u32,
    (i % 7)::UBIGINT * 2500000000000000000 AS u64,
    CASE WHEN i % 31 = 0 THEN NULL ELSE 'u' || ((i * 31) % 5003) END AS user_id,
    ((i % 9) / 4)::FLOAT AS f32,
    CASE i % 6 WHEN 0 THEN 'é' WHEN 1 THEN 'z' WHEN 2 THEN 'Z' WHEN 3 THEN '😀' WHEN 4 THEN 'ﬀ' ELSE '' END AS uni,
    CASE WHEN i % 3 = 0 THEN 'nan'::DOUBLE WHEN i % 3 = 1 THEN i::DOUBLE ELSE NULL END AS nanv,
    NULL::INTEGER AS nothing
  FROM range(0, ${rows}) r(i)`;
}

/** One string key and every aggregate over every kind of column. */
export const EVERY_AGGREGATE = aggregateQuery({
  groupBy: ['cat'],
  aggregates: [
    { op: 'count' },
    { op: 'count', column: 'v' },
    { op: 'sum', column: 'v' },
    { op: 'avg', column: 'v' },
    { op: 'min', column: 'v' },
    { op: 'max', column: 'v' },
    { op: 'count_distinct', column: 'user_id' },
    { op: 'sum', column: 'small' },
    { op: 'avg', column: 'tiny' },
    { op: 'sum', column: 'wide' },
    { op: 'min', column: 'big' },
    { op: 'max', column: 'big' },
    { op: 'min', column: 'day' },
    { op: 'max', column: 'ts' },
    { op: 'min', column: 'price' },
    { op: 'sum', column: 'price' },
    { op: 'avg', column: 'price' },
    { op: 'min', column: 'uni' },
    { op: 'max', column: 'uni' },
    { op: 'min', column: 'flag' },
    { op: 'max', column: 'user_id' },
    { op: 'count', column: 'nothing' },
    { op: 'sum', column: 'nothing' },
    { op: 'min', column: 'nothing' },
    { op: 'count_distinct', column: 'nothing' },
  ],
});

export const EVERY_AGGREGATE_SQL = `SELECT cat, count(*), count(v), sum(v), avg(v), min(v), max(v), count(DISTINCT user_id), sum(small), avg(tiny),
            sum(wide), min(big), max(big), min(day), max(ts), min(price), sum(price), avg(price), min(uni), max(uni),
            min(flag), max(user_id), count(nothing), sum(nothing), min(nothing), count(DISTINCT nothing)
          FROM data GROUP BY cat`;
