/** ORDER BY and LIMIT to the job's orderBy and limit: result columns by name, alias or position. */
import type { OrderBy } from '../../protocol/index.ts';
import { isAggregateCall, sqlAggregate } from './sql-aggregate.ts';
import {
  child,
  children,
  columnName,
  literal,
  positionOf,
  text,
  type SqlNode,
} from './sql-node.ts';
import { SqlRefusal } from './sql-refusal.ts';
import type { SqlOutput } from './sql-select.ts';

/** The result column an ORDER BY item names. */
function target(expr: SqlNode, outputs: SqlOutput[]): string {
  const names = outputs.map((out) => out.name).join(', ');
  const ordinal = literal(expr);
  if (typeof ordinal === 'number') {
    const out = outputs[ordinal - 1];
    if (!Number.isInteger(ordinal) || !out)
      throw new SqlRefusal(
        'ORDER BY',
        `${ordinal} is not a position in SELECT (1–${outputs.length})`,
      );
    return out.name;
  }
  if (isAggregateCall(expr)) {
    const wanted = sqlAggregate(expr, 'ORDER BY');
    const same = outputs.find(
      (out) => out.aggregate?.op === wanted.op && out.aggregate.column === wanted.column,
    );
    if (same) return same.name;
  }
  const name = columnName(expr);
  if (name !== undefined && outputs.some((out) => out.name === name)) return name;
  throw new SqlRefusal(
    'ORDER BY',
    `order by columns of the result only (${names}), by name, alias or position`,
    positionOf(expr),
  );
}

export function sqlOrderBy(select: SqlNode, outputs: SqlOutput[]): OrderBy[] {
  return children(select, 'orderby').map((item) => {
    const nulls = text(item, 'nulls');
    if (nulls !== undefined && !/LAST/i.test(nulls))
      throw new SqlRefusal(
        'ORDER BY',
        'NULLS FIRST is not supported: NULLs sort last in both directions',
      );
    const column = target(child(item, 'expr') ?? {}, outputs);
    return item['type'] === 'DESC' ? { column, desc: true } : { column };
  });
}

/** LIMIT n (no OFFSET). */
export function sqlLimit(select: SqlNode): number | undefined {
  const limit = child(select, 'limit');
  const values = children(limit ?? {}, 'value');
  if (values.length === 0) return undefined;
  if (values.length > 1 || limit?.['seperator'])
    throw new SqlRefusal('LIMIT', 'OFFSET is not supported; LIMIT takes one whole number');
  const count = literal(values[0]!);
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 1 || count > 1_000_000)
    throw new SqlRefusal('LIMIT', 'LIMIT takes one whole number from 1 to 1,000,000');
  return count;
}
