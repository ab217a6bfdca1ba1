/**
 * SQL text to one SELECT's AST, with node-sql-parser's PostgreSQL grammar (the closest of its
 * dialects to DuckDB's: `'…'` strings, `"…"` names). A syntax error names its line and column.
 */
import sqlParser from 'node-sql-parser/build/postgresql.js';
import { isNode, type SqlNode } from './sql-node.ts';
import { SqlRefusal } from './sql-refusal.ts';

const parser = new sqlParser.Parser();
const OPTIONS = { database: 'postgresql', parseOptions: { includeLocations: true } };

interface PegError {
  location: { start: { offset: number; line: number; column: number } };
}

const isPegError = (error: unknown): error is PegError =>
  isNode(error) && isNode(error['location']) && isNode(error['location']['start']);

/** The one SELECT statement the text holds. */
export function parseSelect(sql: string): SqlNode {
  let ast: unknown;
  try {
    ast = parser.astify(sql, OPTIONS);
  } catch (error) {
    if (!isPegError(error)) throw error;
    const { offset, line, column } = error.location.start;
    const word = /^\S{1,24}/.exec(sql.slice(offset))?.[0];
    const near = word === undefined ? 'at the end of the text' : `near "${word}"`;
    throw new SqlRefusal('syntax', `the SQL does not parse ${near}`, { line, column });
  }
  const statements = (Array.isArray(ast) ? ast : [ast]).filter(isNode);
  if (statements.length !== 1)
    throw new SqlRefusal('query', `give one SELECT statement, not ${statements.length}`);
  const select = statements[0]!;
  if (select['type'] !== 'select')
    throw new SqlRefusal(
      'query',
      `only SELECT is supported, not ${String(select['type']).toUpperCase()}`,
    );
  return select;
}
