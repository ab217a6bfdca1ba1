/**
 * SQL text to an aggregate job's fields: one SELECT over one s3:// location, filtered by WHERE,
 * grouped, ordered and limited. Whatever the job cannot compute is refused clause by clause
 * (SqlRefusal), and so is text that does not parse.
 */
import type { AggregateJobRequest } from '../../protocol/index.ts';
import { sqlFrom } from './sql-from.ts';
import { child, children, type SqlNode } from './sql-node.ts';
import { sqlLimit, sqlOrderBy } from './sql-order.ts';
import { sqlSelect } from './sql-select.ts';
import { sqlSource, type StoreLocation } from './sql-store.ts';
import { whereFilters } from './sql-where.ts';
import { parseSelect } from './sql-parse.ts';
import { SqlRefusal } from './sql-refusal.ts';

export type SqlAggregation = Pick<
  AggregateJobRequest,
  'source' | 'filter' | 'groupBy' | 'aggregates' | 'orderBy' | 'limit'
>;

/** Clauses of a SELECT the job has nothing for. */
function refuseUnsupported(select: SqlNode): void {
  if (children(select, 'with').length > 0)
    throw new SqlRefusal('WITH', 'common table expressions are not supported');
  if (select['_next'] || select['set_op'])
    throw new SqlRefusal(
      String(select['set_op'] ?? 'UNION').toUpperCase(),
      'set operations are not supported',
    );
  if (child(select, 'distinct')?.['type'])
    throw new SqlRefusal('SELECT', 'DISTINCT is not supported; GROUP BY the columns and aggregate');
  if (select['having'])
    throw new SqlRefusal('HAVING', 'HAVING is not supported; filter rows with WHERE');
  if (select['window']) throw new SqlRefusal('WINDOW', 'window functions are not supported');
  if (select['qualify']) throw new SqlRefusal('QUALIFY', 'QUALIFY is not supported');
  if (children(child(select, 'groupby') ?? {}, 'modifiers').length > 0)
    throw new SqlRefusal('GROUP BY', 'modifiers (WITH ROLLUP…) are not supported');
}

/** The aggregate job's fields a query asks for, its FROM mapped onto one of `stores`. */
export function sqlAggregation(sql: string, stores: readonly StoreLocation[]): SqlAggregation {
  const select = parseSelect(sql);
  refuseUnsupported(select);
  const source = sqlSource(sqlFrom(children(select, 'from')), stores);
  const filter = whereFilters(child(select, 'where'));
  const { groupBy, aggregates, outputs } = sqlSelect(select);
  const orderBy = sqlOrderBy(select, outputs);
  const limit = sqlLimit(select);
  return {
    source,
    ...(filter.length ? { filter } : {}),
    ...(groupBy.length ? { groupBy } : {}),
    aggregates,
    ...(orderBy.length ? { orderBy } : {}),
    ...(limit !== undefined ? { limit } : {}),
  };
}
