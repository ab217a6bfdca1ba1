/** CSV column types as DuckDB sniffs them, and the parsers that turn text into their values. */

import { daysFromCivil, validDate } from '../calendar.ts';

export type CsvType = 'BOOLEAN' | 'BIGINT' | 'DOUBLE' | 'DATE' | 'TIMESTAMP' | 'VARCHAR';

/** Most specific first: a column gets the first type every sampled value parses as, else VARCHAR. */
const CANDIDATES = ['BOOLEAN', 'BIGINT', 'DOUBLE', 'DATE', 'TIMESTAMP'] as const;

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const MICROS_PER_DAY = 86_400_000_000n;

const INTEGER = /^[+-]?\d+$/;
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;
const SPECIAL = /^-?(inf|infinity|nan)$/i;
const DATE = /^(\d{4,})-(\d{1,2})-(\d{1,2})$/;
const TIMESTAMP =
  /^(\d{4,})-(\d{1,2})-(\d{1,2})(?:[ T](\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:\.(\d+))?)?)?$/;
const TRUE = new Set(['true', 't', 'yes']);
const FALSE = new Set(['false', 'f', 'no']);

/**
 * The sniffer is stricter than the casts, as DuckDB's: `+5`, `007` and `05.5` stay VARCHAR
 * (zip codes, ids), and only true/false/t/f/yes/no make a BOOLEAN column.
 */
function sniffable(text: string): boolean {
  return !(
    text.startsWith('+') ||
    (text.length > 1 && text[0] === '0' && text[1]! >= '0' && text[1]! <= '9')
  );
}

export function parseBoolean(raw: string): boolean | undefined {
  const text = raw.trim().toLowerCase();
  if (TRUE.has(text) || text === '1') return true;
  if (FALSE.has(text) || text === '0') return false;
  return undefined;
}

export function parseBigint(raw: string): bigint | undefined {
  const text = raw.trim();
  if (!INTEGER.test(text)) return undefined;
  const value = BigInt(text);
  return value < INT64_MIN || value > INT64_MAX ? undefined : value;
}

export function parseDouble(raw: string): number | undefined {
  const text = raw.trim();
  if (DECIMAL.test(text)) return Number(text);
  if (!SPECIAL.test(text)) return undefined;
  const lower = text.toLowerCase();
  if (lower.endsWith('nan')) return Number.NaN;
  return lower.startsWith('-') ? -Infinity : Infinity;
}

/** `YYYY-MM-DD` (DuckDB's looser digit counts allowed) as days since the epoch. */
export function parseDate(raw: string): number | undefined {
  const match = DATE.exec(raw.trim());
  if (!match) return undefined;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  return validDate(year, month, day) ? daysFromCivil(year, month, day) : undefined;
}

/** `YYYY-MM-DD[ T]HH:MM[:SS[.ffffff]]` (or a bare date) as microseconds since the epoch; digits past 6 are cut. */
export function parseTimestamp(raw: string): bigint | undefined {
  const match = TIMESTAMP.exec(raw.trim());
  if (!match) return undefined;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  if (!validDate(year, month, day)) return undefined;
  const [hour, minute, second] = [
    Number(match[4] ?? 0),
    Number(match[5] ?? 0),
    Number(match[6] ?? 0),
  ];
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  const micros = BigInt((match[7] ?? '').slice(0, 6).padEnd(6, '0'));
  return (
    BigInt(daysFromCivil(year, month, day)) * MICROS_PER_DAY +
    BigInt(hour * 3600 + minute * 60 + second) * 1_000_000n +
    micros
  );
}

function sniffsAs(type: (typeof CANDIDATES)[number], raw: string): boolean {
  const text = raw.trim();
  switch (type) {
    case 'BOOLEAN':
      return TRUE.has(text.toLowerCase()) || FALSE.has(text.toLowerCase());
    case 'BIGINT':
      return sniffable(text) && parseBigint(text) !== undefined;
    case 'DOUBLE':
      return sniffable(text) && parseDouble(text) !== undefined;
    case 'DATE':
      return parseDate(text) !== undefined;
    case 'TIMESTAMP':
      return parseTimestamp(text) !== undefined;
  }
}

/** The type of each of `columns` columns from sampled rows; all-NULL columns are VARCHAR. */
export function sniffTypes(
  rows: readonly (readonly (string | null)[])[],
  columns: number,
): CsvType[] {
  const types: CsvType[] = [];
  for (let column = 0; column < columns; column++) {
    let viable: (typeof CANDIDATES)[number][] = [...CANDIDATES];
    let seen = false;
    for (const row of rows) {
      const value = row[column];
      if (value === null || value === undefined) continue;
      seen = true;
      viable = viable.filter((type) => sniffsAs(type, value));
      if (viable.length === 0) break;
    }
    types.push(seen && viable[0] ? viable[0] : 'VARCHAR');
  }
  return types;
}
