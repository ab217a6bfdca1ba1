/** Reading node-sql-parser's AST (plain JSON objects) without casts: nodes, names, literals, places. */
import type { SqlPosition } from './sql-refusal.ts';

export type SqlNode = { readonly [key: string]: unknown };

export const isNode = (value: unknown): value is SqlNode =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The node under `key`, if there is one. */
export function child(node: SqlNode, key: string): SqlNode | undefined {
  const value = node[key];
  return isNode(value) ? value : undefined;
}

/** The nodes of an array under `key` (none when it is absent). */
export function children(node: SqlNode, key: string): SqlNode[] {
  const value = node[key];
  return Array.isArray(value) ? value.filter(isNode) : [];
}

/** The string under `key`, if it is one. */
export function text(node: SqlNode, key: string): string | undefined {
  const value = node[key];
  return typeof value === 'string' ? value : undefined;
}

/** Where a node starts, when the parser recorded it (expressions, not bare names). */
export function positionOf(node: SqlNode | undefined): SqlPosition | undefined {
  const start = node && child(child(node, 'loc') ?? {}, 'start');
  const line = start?.['line'];
  const column = start?.['column'];
  return typeof line === 'number' && typeof column === 'number' ? { line, column } : undefined;
}

/**
 * The name a bare column reference gives (`price`, `"Price"`), `*` for a star; undefined for
 * anything else, a qualified `t.price` included.
 */
export function columnName(node: SqlNode): string | undefined {
  if (node['type'] !== 'column_ref' || node['table']) return undefined;
  const column = node['column'];
  if (typeof column === 'string') return column;
  const name = isNode(column) ? child(column, 'expr') : undefined;
  return name ? text(name, 'value') : undefined;
}

export type SqlLiteral = string | number | boolean;

const QUOTED = new Set(['single_quote_string', 'string', 'date', 'datetime', 'timestamp', 'time']);

/**
 * A literal's value: numbers (as text beyond 2^53, which the filter reads exactly), strings,
 * booleans, and `DATE '…'`/`TIMESTAMP '…'` as their ISO text; null for NULL; undefined otherwise.
 */
export function literal(node: SqlNode): SqlLiteral | null | undefined {
  const type = node['type'];
  const value = node['value'];
  if (type === 'null') return null;
  if (type === 'number' || type === 'bigint') {
    const raw = String(value);
    const number = Number(raw);
    return /^[+-]?\d+$/.test(raw) && !Number.isSafeInteger(number) ? raw : number;
  }
  if ((type === 'bool' || type === 'boolean') && typeof value === 'boolean') return value;
  if (typeof type === 'string' && QUOTED.has(type) && typeof value === 'string')
    return value.replaceAll("''", "'");
  return undefined;
}
