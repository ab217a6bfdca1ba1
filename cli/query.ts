/** The small expression languages of `tm submit aggregate`: --agg, --filter, --order-by, --group-by. */
import { AggregateOp, type AggregateExpr, type Filter, type OrderBy } from '../protocol/index.ts';
import { UsageError } from './exit.ts';

const IDENT = String.raw`[A-Za-z_][A-Za-z0-9_.]*|"[^"]+"|\x60[^\x60]+\x60`;
const unquote = (name: string) => (/^["`].*["`]$/.test(name) ? name.slice(1, -1) : name);

/** Splits on commas outside parentheses and quotes: `a, sum(b)` → `a`, `sum(b)`. */
export function splitList(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quote: string | null = null;
  let current = '';
  for (const ch of text) {
    if (quote) {
      if (ch === quote) quote = null;
    } else if (ch === '"' || ch === "'" || ch === '`') quote = ch;
    else if (ch === '(') depth++;
    else if (ch === ')') depth--;
    else if (ch === ',' && depth === 0) {
      parts.push(current.trim());
      current = '';
      continue;
    }
    current += ch;
  }
  parts.push(current.trim());
  return parts.filter((part) => part.length > 0);
}

/** `sum(price)`, `count(*)`, `count()`, `count(distinct x)`, each with an optional `as name`. */
export function parseAgg(text: string): AggregateExpr {
  const match = new RegExp(
    String.raw`^\s*([A-Za-z_]+)\s*\(\s*(distinct\s+)?(\*|${IDENT})?\s*\)\s*(?:as\s+(${IDENT}))?\s*$`,
    'i',
  ).exec(text);
  if (!match)
    throw new UsageError(
      `cannot read --agg "${text}": expected OP(COLUMN) [as NAME], e.g. sum(price) or count(*)`,
    );
  const [, rawOp, distinct, column, as] = match;
  let op = rawOp!.toLowerCase();
  if (distinct) {
    if (op !== 'count') throw new UsageError(`--agg "${text}": only count takes distinct`);
    op = 'count_distinct';
  }
  const parsedOp = AggregateOp.safeParse(op);
  if (!parsedOp.success)
    throw new UsageError(
      `--agg "${text}": unknown function ${rawOp}; expected one of ${AggregateOp.options.join(', ')}`,
    );
  const star = column === undefined || column === '*';
  if (star && parsedOp.data !== 'count')
    throw new UsageError(`--agg "${text}": ${op} needs a column`);
  return {
    op: parsedOp.data,
    ...(star ? {} : { column: unquote(column!) }),
    ...(as ? { as: unquote(as) } : {}),
  };
}

/** A literal: a number, true/false, a quoted string, or a bare word as a string. */
function parseValue(text: string): string | number | boolean {
  const value = text.trim();
  if (/^'.*'$|^".*"$/.test(value)) return value.slice(1, -1);
  if (/^-?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(value)) return Number(value);
  if (/^(true|false)$/i.test(value)) return value.toLowerCase() === 'true';
  if (value === '') throw new UsageError('a filter value is empty');
  return value;
}

/** `col >= 5`, `region = 'EU'`, `col != x`, `col in (a, b)`, `col is null`, `col is not null`. */
export function parseFilter(text: string): Filter {
  const nullMatch = new RegExp(String.raw`^\s*(${IDENT})\s+is\s+(not\s+)?null\s*$`, 'i').exec(text);
  if (nullMatch)
    return { column: unquote(nullMatch[1]!), op: nullMatch[2] ? 'is not null' : 'is null' };
  const inMatch = new RegExp(String.raw`^\s*(${IDENT})\s+in\s*\((.*)\)\s*$`, 'i').exec(text);
  if (inMatch) {
    const values = splitList(inMatch[2]!).map(parseValue);
    if (values.length === 0) throw new UsageError(`--filter "${text}": "in" needs values`);
    return { column: unquote(inMatch[1]!), op: 'in', value: values };
  }
  const match = new RegExp(
    String.raw`^\s*(${IDENT})\s*(==|!=|<>|<=|>=|=|<|>)\s*([^=<>].*?)\s*$`,
  ).exec(text);
  if (!match)
    throw new UsageError(
      `cannot read --filter "${text}": expected COLUMN OP VALUE (OP one of = != < <= > >=), COLUMN in (A, B) or COLUMN is [not] null`,
    );
  const op = ({ '==': '=', '<>': '!=' } as Record<string, string>)[match[2]!] ?? match[2]!;
  return { column: unquote(match[1]!), op: op as Filter['op'], value: parseValue(match[3]!) };
}

/** `revenue desc`, `region`, `-revenue` (descending), `sum(price) desc`; a list separated by commas. */
export function parseOrderBy(text: string): OrderBy[] {
  return splitList(text).map((part) => {
    const match = /^(-)?(.+?)(?:\s+(asc|desc))?$/i.exec(part.trim());
    if (!match || !match[2]) throw new UsageError(`cannot read --order-by "${text}"`);
    const desc = match[1] === '-' || match[3]?.toLowerCase() === 'desc';
    return { column: unquote(match[2].trim()), ...(desc ? { desc: true } : {}) };
  });
}

/** `region,product` (or repeated flags) as column names. */
export function parseGroupBy(values: readonly string[]): string[] {
  return values.flatMap(splitList).map(unquote);
}
