/**
 * SELECT and GROUP BY to the job's groupBy and aggregates: every selected column is a group key
 * (named in GROUP BY, or by its ordinal there), every other item an aggregate.
 */
import type { AggregateExpr } from '../../protocol/index.ts';
import {
  AGGREGATES_SUPPORTED,
  duckdbName,
  isAggregateCall,
  sqlAggregate,
} from './sql-aggregate.ts';
import {
  child,
  children,
  columnName,
  isNode,
  literal,
  positionOf,
  text,
  type SqlNode,
} from './sql-node.ts';
import { SqlRefusal } from './sql-refusal.ts';

/** One column of the result, in SELECT order: a group key, or an aggregate. */
export interface SqlOutput {
  name: string;
  aggregate?: AggregateExpr;
}

export interface SqlSelect {
  groupBy: string[];
  aggregates: AggregateExpr[];
  /** The result's columns in SELECT order, for ORDER BY's names and ordinals. */
  outputs: SqlOutput[];
}

const SELECT_SUPPORTED = `SELECT takes group keys (bare columns) and aggregates, each with an optional AS name; ${AGGREGATES_SUPPORTED}`;

function alias(item: SqlNode): string | undefined {
  const as = item['as'];
  if (typeof as === 'string') return as;
  return isNode(as) ? text(as, 'value') : undefined;
}

function output(item: SqlNode): SqlOutput {
  const expr = child(item, 'expr');
  const name = alias(item);
  if (expr && isAggregateCall(expr)) {
    const aggregate = sqlAggregate(expr, 'SELECT');
    const as = name ?? duckdbName(aggregate);
    return { name: as, aggregate: { ...aggregate, as } };
  }
  const column = expr ? columnName(expr) : undefined;
  if (column === '*') throw new SqlRefusal('SELECT', `* is not supported; ${SELECT_SUPPORTED}`);
  if (column === undefined) {
    const what = expr?.['type'] === 'window_func' ? 'a window function' : 'this expression';
    throw new SqlRefusal(
      'SELECT',
      `${what} is not supported; ${SELECT_SUPPORTED}`,
      positionOf(expr),
    );
  }
  if (name !== undefined && name !== column)
    throw new SqlRefusal(
      'SELECT',
      `a group key cannot be renamed (${column} AS ${name}): the result names it by its column`,
    );
  return { name: column };
}

/** The GROUP BY keys, ordinals resolved against the SELECT list. */
function groupKeys(groupby: SqlNode | undefined, outputs: SqlOutput[]): string[] {
  return children(groupby ?? {}, 'columns').map((node) => {
    const ordinal = literal(node);
    if (typeof ordinal === 'number') {
      const target = outputs[ordinal - 1];
      if (!Number.isInteger(ordinal) || !target)
        throw new SqlRefusal(
          'GROUP BY',
          `${ordinal} is not a position in SELECT (1–${outputs.length})`,
        );
      if (target.aggregate)
        throw new SqlRefusal(
          'GROUP BY',
          `position ${ordinal} is an aggregate (${target.name}), not a column`,
        );
      return target.name;
    }
    const name = columnName(node);
    if (name === undefined || name === '*')
      throw new SqlRefusal(
        'GROUP BY',
        'only bare column names or SELECT positions are supported (no expressions, ROLLUP, CUBE or GROUPING SETS)',
        positionOf(node),
      );
    return name;
  });
}

export function sqlSelect(select: SqlNode): SqlSelect {
  const items = children(select, 'columns');
  if (items.length === 0) throw new SqlRefusal('SELECT', `* is not supported; ${SELECT_SUPPORTED}`);
  const outputs = items.map(output);
  const keys = groupKeys(child(select, 'groupby'), outputs);
  const selectedKeys = outputs.filter((out) => !out.aggregate).map((out) => out.name);
  for (const key of selectedKeys)
    if (!keys.includes(key))
      throw new SqlRefusal(
        'SELECT',
        `${key} is neither in GROUP BY nor inside an aggregate: add it to GROUP BY, or aggregate it`,
      );
  for (const key of keys)
    if (!selectedKeys.includes(key))
      throw new SqlRefusal(
        'GROUP BY',
        `${key} is not in SELECT: the result holds every group key, so select it too`,
      );
  const aggregates = outputs.flatMap((out) => (out.aggregate ? [out.aggregate] : []));
  if (aggregates.length === 0)
    throw new SqlRefusal(
      'SELECT',
      `at least one aggregate is needed (a query of only group keys, like SELECT DISTINCT, is not supported); ${AGGREGATES_SUPPORTED}`,
    );
  return { groupBy: [...new Set(selectedKeys)], aggregates, outputs };
}
