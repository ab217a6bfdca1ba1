/**
 * WHERE to the aggregate job's filters: comparisons, IN, BETWEEN, IS [NOT] NULL and bare boolean
 * columns (`WHERE flag`: flag = true), joined by AND.
 */
import type { Filter, FilterOp } from '../../protocol/index.ts';
import {
  child,
  children,
  columnName,
  literal,
  positionOf,
  type SqlLiteral,
  type SqlNode,
} from './sql-node.ts';
import { SqlRefusal } from './sql-refusal.ts';

const WHERE_SUPPORTED =
  'WHERE takes conditions joined by AND, each a column against literals: =, <>, <, <=, >, >=, IN (…), BETWEEN … AND …, IS [NOT] NULL';

const COMPARISONS: Record<string, FilterOp> = {
  '=': '=',
  '<>': '!=',
  '!=': '!=',
  '<': '<',
  '<=': '<=',
  '>': '>',
  '>=': '>=',
};
/** The comparison seen from the other side: `5 < k` is `k > 5`. */
const MIRRORED: Record<FilterOp, FilterOp> = {
  '=': '=',
  '!=': '!=',
  '<': '>',
  '<=': '>=',
  '>': '<',
  '>=': '<=',
  in: 'in',
  'is null': 'is null',
  'is not null': 'is not null',
};
/** Operators the filter cannot express, by what the message calls them. */
const UNSUPPORTED: Record<string, string> = {
  OR: 'OR',
  LIKE: 'LIKE',
  'NOT LIKE': 'NOT LIKE',
  ILIKE: 'ILIKE',
  'NOT ILIKE': 'NOT ILIKE',
  'SIMILAR TO': 'SIMILAR TO',
  'NOT IN': 'NOT IN',
  'NOT BETWEEN': 'NOT BETWEEN',
};

function refuse(what: string, node: SqlNode): never {
  throw new SqlRefusal('WHERE', `${what} is not supported; ${WHERE_SUPPORTED}`, positionOf(node));
}

/** The conditions of an AND tree, in order. */
function conjuncts(node: SqlNode): SqlNode[] {
  if (node['type'] === 'binary_expr' && node['operator'] === 'AND') {
    const left = child(node, 'left');
    const right = child(node, 'right');
    if (left && right) return [...conjuncts(left), ...conjuncts(right)];
  }
  return [node];
}

function value(node: SqlNode, condition: SqlNode): SqlLiteral {
  if (node['ast'] !== undefined || node['type'] === 'select') refuse('a subquery', condition);
  const found = literal(node);
  if (found === null) refuse('comparing with NULL (use IS NULL)', condition);
  if (found === undefined) refuse('an expression where a literal belongs', condition);
  return found;
}

function column(node: SqlNode | undefined, condition: SqlNode): string {
  const name = node ? columnName(node) : undefined;
  if (name === undefined || name === '*')
    refuse(
      'a condition on anything but a bare column (an expression, a qualified name)',
      condition,
    );
  return name;
}

function comparison(op: FilterOp, condition: SqlNode): Filter {
  const left = child(condition, 'left');
  const right = child(condition, 'right');
  if (left && right && columnName(left) === undefined && columnName(right) !== undefined)
    return { column: column(right, condition), op: MIRRORED[op], value: value(left, condition) };
  if (!right) refuse('this condition', condition);
  return { column: column(left, condition), op, value: value(right, condition) };
}

function filters(condition: SqlNode): Filter[] {
  const type = condition['type'];
  const operator = String(condition['operator'] ?? '').toUpperCase();
  if (type === 'unary_expr' && operator === 'NOT') refuse('NOT', condition);
  const flag = columnName(condition);
  if (flag !== undefined && flag !== '*') return [{ column: flag, op: '=', value: true }];
  if (type !== 'binary_expr') refuse(`a condition of type ${String(type)}`, condition);
  const op = COMPARISONS[operator];
  if (op) return [comparison(op, condition)];
  const unsupported = UNSUPPORTED[operator];
  if (unsupported) refuse(unsupported, condition);
  const name = () => column(child(condition, 'left'), condition);
  const list = () => children(child(condition, 'right') ?? {}, 'value');
  if (operator === 'IN')
    return [{ column: name(), op: 'in', value: list().map((item) => value(item, condition)) }];
  if (operator === 'BETWEEN') {
    const [low, high] = list();
    if (!low || !high) refuse('this BETWEEN', condition);
    return [
      { column: name(), op: '>=', value: value(low, condition) },
      { column: name(), op: '<=', value: value(high, condition) },
    ];
  }
  if (
    (operator === 'IS' || operator === 'IS NOT') &&
    child(condition, 'right')?.['type'] === 'null'
  )
    return [{ column: name(), op: operator === 'IS' ? 'is null' : 'is not null' }];
  refuse(`the operator ${operator}`, condition);
}

/** The filters of a WHERE clause (none without one). */
export function whereFilters(where: SqlNode | undefined): Filter[] {
  return where ? conjuncts(where).flatMap(filters) : [];
}
