/**
 * SQL the aggregate job cannot compute: each refused with the clause it is in, what is not
 * supported and what is, and the line and column where the parser recorded them.
 */
import { describe, expect, it } from 'vitest';
import { sqlAggregation } from '../../src/sql/sql-query.ts';
import { SqlRefusal } from '../../src/sql/sql-refusal.ts';

const STORES = [{ name: 'test-bucket', bucket: 'test-bucket', prefix: '' }];
const FROM = "FROM 's3://test-bucket/sales/'";

function refusal(sql: string): SqlRefusal {
  try {
    sqlAggregation(sql, STORES);
  } catch (error) {
    if (error instanceof SqlRefusal) return error;
    throw error;
  }
  throw new Error(`not refused: ${sql}`);
}

const CASES: [string, string, string, RegExp][] = [
  [
    'syntax error',
    'SELEC count(*)',
    'syntax',
    /does not parse near "count\(\*\)" \(line 1, column 7\)/,
  ],
  ['syntax error at the end', `SELECT count(*) ${FROM} WHERE`, 'syntax', /at the end of the text/],
  ['two statements', `SELECT count(*) ${FROM}; SELECT 1`, 'query', /one SELECT statement, not 2/],
  [
    'not a SELECT',
    "DELETE FROM 's3://test-bucket/x'",
    'query',
    /only SELECT is supported, not DELETE/,
  ],
  ['a CTE', `WITH a AS (SELECT 1) SELECT count(*) ${FROM}`, 'WITH', /not supported/],
  ['UNION', `SELECT count(*) ${FROM} UNION SELECT count(*) ${FROM}`, 'UNION', /set operations/],
  [
    'SELECT DISTINCT',
    `SELECT DISTINCT a, count(*) ${FROM} GROUP BY a`,
    'SELECT',
    /DISTINCT is not supported/,
  ],
  [
    'HAVING',
    `SELECT a, count(*) ${FROM} GROUP BY a HAVING count(*) > 1`,
    'HAVING',
    /filter rows with WHERE/,
  ],
  ['no FROM', 'SELECT count(*)', 'FROM', /a FROM clause is needed/],
  [
    'a table name',
    'SELECT count(*) FROM sales',
    'FROM',
    /"sales" is not an s3:\/\/ URL; FROM takes one quoted/,
  ],
  [
    'a join',
    `SELECT count(*) ${FROM} a JOIN 's3://test-bucket/b/' b ON a.x = b.x`,
    'FROM',
    /joins are not supported/,
  ],
  ['two tables', `SELECT count(*) ${FROM}, 's3://test-bucket/b/'`, 'FROM', /only one table/],
  [
    'a subquery in FROM',
    'SELECT count(*) FROM (SELECT 1) s',
    'FROM',
    /subqueries are not supported/,
  ],
  [
    'an unknown table function',
    "SELECT count(*) FROM read_json('s3://test-bucket/a.json')",
    'FROM',
    /read_json is not supported/,
  ],
  [
    'reader options',
    "SELECT count(*) FROM read_csv('s3://test-bucket/a/', header = true)",
    'FROM',
    /one quoted URL and no options/,
  ],
  [
    'a format against the extension',
    "SELECT count(*) FROM read_csv('s3://test-bucket/a.parquet')",
    'FROM',
    /is parquet, not what read_csv reads/,
  ],
  [
    'a glob inside the path',
    "SELECT count(*) FROM 's3://test-bucket/*/a.parquet'",
    'FROM',
    /a glob other than a last/,
  ],
  [
    'an unknown extension glob',
    "SELECT count(*) FROM 's3://test-bucket/a/*.json'",
    'FROM',
    /unknown extension \.json/,
  ],
  ['SELECT *', `SELECT * ${FROM}`, 'SELECT', /\* is not supported/],
  [
    'an ungrouped column',
    `SELECT a, count(*) ${FROM}`,
    'SELECT',
    /a is neither in GROUP BY nor inside an aggregate/,
  ],
  [
    'a renamed group key',
    `SELECT a AS b, count(*) ${FROM} GROUP BY a`,
    'SELECT',
    /cannot be renamed \(a AS b\)/,
  ],
  ['an expression', `SELECT a + 1, count(*) ${FROM}`, 'SELECT', /this expression is not supported/],
  [
    'a window function',
    `SELECT row_number() OVER (), count(*) ${FROM}`,
    'SELECT',
    /a window function/,
  ],
  [
    'an aggregate over a window',
    `SELECT sum(v) OVER () ${FROM}`,
    'SELECT',
    /a window function \(OVER\)/,
  ],
  [
    'an unknown aggregate',
    `SELECT string_agg(a, ',') ${FROM}`,
    'SELECT',
    /string_agg\(\) is not supported/,
  ],
  [
    'an aggregate of an expression',
    `SELECT sum(a * 2) ${FROM}`,
    'SELECT',
    /sum\(\) of anything but a bare column/,
  ],
  ['FILTER on an aggregate', `SELECT sum(v) FILTER (WHERE v > 1) ${FROM}`, 'SELECT', /FILTER/],
  ['only group keys', `SELECT a ${FROM} GROUP BY a`, 'SELECT', /at least one aggregate is needed/],
  [
    'GROUP BY of an unselected column',
    `SELECT count(*) ${FROM} GROUP BY a`,
    'GROUP BY',
    /a is not in SELECT/,
  ],
  [
    'GROUP BY of an aggregate position',
    `SELECT a, count(*) ${FROM} GROUP BY 2`,
    'GROUP BY',
    /position 2 is an aggregate/,
  ],
  [
    'GROUP BY past the SELECT',
    `SELECT a, count(*) ${FROM} GROUP BY 3`,
    'GROUP BY',
    /3 is not a position in SELECT \(1–2\)/,
  ],
  [
    'GROUP BY of an expression',
    `SELECT count(*) ${FROM} GROUP BY a + 1`,
    'GROUP BY',
    /only bare column names or SELECT positions/,
  ],
  [
    'OR',
    `SELECT count(*) ${FROM} WHERE a = 1 OR b = 2`,
    'WHERE',
    /OR is not supported; WHERE takes conditions joined by AND/,
  ],
  ['NOT', `SELECT count(*) ${FROM} WHERE NOT a = 1`, 'WHERE', /NOT is not supported/],
  ['LIKE', `SELECT count(*) ${FROM} WHERE a LIKE 'x%'`, 'WHERE', /LIKE is not supported/],
  ['NOT IN', `SELECT count(*) ${FROM} WHERE a NOT IN (1, 2)`, 'WHERE', /NOT IN is not supported/],
  [
    'NOT BETWEEN',
    `SELECT count(*) ${FROM} WHERE a NOT BETWEEN 1 AND 2`,
    'WHERE',
    /NOT BETWEEN is not supported/,
  ],
  [
    'two columns compared',
    `SELECT count(*) ${FROM} WHERE a = b`,
    'WHERE',
    /an expression where a literal belongs/,
  ],
  [
    'an expression in WHERE',
    `SELECT count(*) ${FROM} WHERE a + 1 > 2`,
    'WHERE',
    /anything but a bare column/,
  ],
  ['= NULL', `SELECT count(*) ${FROM} WHERE a = NULL`, 'WHERE', /use IS NULL/],
  [
    'a subquery in IN',
    `SELECT count(*) ${FROM} WHERE a IN (SELECT 1)`,
    'WHERE',
    /a subquery is not supported/,
  ],
  [
    'IS TRUE',
    `SELECT count(*) ${FROM} WHERE a IS TRUE`,
    'WHERE',
    /the operator IS is not supported/,
  ],
  [
    'ORDER BY of a non-result column',
    `SELECT a, count(*) ${FROM} GROUP BY a ORDER BY b`,
    'ORDER BY',
    /columns of the result only \(a, count_star\(\)\)/,
  ],
  [
    'ORDER BY past the SELECT',
    `SELECT a, count(*) ${FROM} GROUP BY a ORDER BY 3`,
    'ORDER BY',
    /3 is not a position/,
  ],
  [
    'NULLS FIRST',
    `SELECT a, count(*) ${FROM} GROUP BY a ORDER BY a NULLS FIRST`,
    'ORDER BY',
    /NULLS FIRST is not supported/,
  ],
  ['OFFSET', `SELECT count(*) ${FROM} LIMIT 5 OFFSET 2`, 'LIMIT', /OFFSET is not supported/],
];

describe('refusals', () => {
  it.each(CASES)('%s', (_, sql, clause, message) => {
    const error = refusal(sql);
    expect(error.clause).toBe(clause);
    expect(error.message).toMatch(message);
    expect(error.message.startsWith(`${clause}: `)).toBe(true);
  });

  it('says where, when the parser knows', () => {
    expect(refusal('SELECT count(*)\nFROM x WHERE').at).toEqual({ line: 2, column: 13 });
    const or = refusal(`SELECT count(*) ${FROM} WHERE a = 1 OR b = 2`);
    expect(or.at).toEqual({ line: 1, column: 54 });
    expect(or.message).toMatch(/\(line 1, column 54\)$/);
  });
});
