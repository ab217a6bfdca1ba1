/**
 * One aggregate call to the job's aggregate: count(*), count(col), count(DISTINCT col), sum, min,
 * max, avg of a bare column. Unnamed, it is named as DuckDB names it (`count_star()`, `avg(price)`).
 */
import type { AggregateExpr, AggregateOp } from '../../protocol/index.ts';
import { child, columnName, positionOf, text, type SqlNode } from './sql-node.ts';
import { SqlRefusal } from './sql-refusal.ts';

export const AGGREGATES_SUPPORTED =
  'aggregates are count(*), count(col), count(DISTINCT col), sum(col), min(col), max(col) and avg(col)';

const OPS: Record<string, AggregateOp> = {
  COUNT: 'count',
  SUM: 'sum',
  MIN: 'min',
  MAX: 'max',
  AVG: 'avg',
};

function refuse(clause: string, what: string, node: SqlNode): never {
  throw new SqlRefusal(
    clause,
    `${what} is not supported; ${AGGREGATES_SUPPORTED}`,
    positionOf(node),
  );
}

/** A name as DuckDB prints it in a column name: quoted unless plain lower-case. */
const printed = (name: string) =>
  /^[a-z_][a-z0-9_]*$/.test(name) ? name : `"${name.replaceAll('"', '""')}"`;

/** DuckDB's name for an unnamed aggregate column. */
export function duckdbName(agg: AggregateExpr): string {
  if (agg.column === undefined) return 'count_star()';
  if (agg.op === 'count_distinct') return `count(DISTINCT ${printed(agg.column)})`;
  return `${agg.op}(${printed(agg.column)})`;
}

/** Whether a node is an aggregate call (of any function the parser knows as one). */
export const isAggregateCall = (node: SqlNode) => node['type'] === 'aggr_func';

/** The aggregate a call computes, without its name. */
export function sqlAggregate(call: SqlNode, clause: string): AggregateExpr {
  const name = String(text(call, 'name') ?? '').toUpperCase();
  const op = OPS[name];
  if (!op) refuse(clause, `the aggregate ${name.toLowerCase()}()`, call);
  if (call['over']) refuse(clause, 'a window function (OVER)', call);
  if (call['filter']) refuse(clause, 'FILTER (WHERE …) on an aggregate', call);
  const args = child(call, 'args') ?? {};
  if (args['orderby']) refuse(clause, 'ORDER BY inside an aggregate', call);
  const argument = child(args, 'expr');
  const distinct = args['distinct'] === 'DISTINCT';
  if (!argument || argument['type'] === 'star') {
    if (op !== 'count' || distinct) refuse(clause, `${name.toLowerCase()}(*)`, call);
    return { op };
  }
  const column = columnName(argument);
  if (column === undefined || column === '*')
    refuse(clause, `${name.toLowerCase()}() of anything but a bare column`, call);
  if (distinct && op !== 'count') refuse(clause, `${name.toLowerCase()}(DISTINCT …)`, call);
  return { op: distinct ? 'count_distinct' : op, column };
}
