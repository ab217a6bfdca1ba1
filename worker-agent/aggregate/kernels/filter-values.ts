/** Filter literals made comparable with a column's stored values, or a KernelError naming the column. */
import { DataType, TimeUnit, type Timestamp } from 'apache-arrow';
import type { ColumnInfo } from './column-types.ts';
import { KernelError } from './errors.ts';
import { parseIsoDate, parseIsoTimestamp } from './iso-time.ts';

export type Scalar = string | number | boolean;

/**
 * `number`: compare with values read as numbers. `wide`: compare with 64-bit values; the literal lies
 * in [floor, floor + 1), exactly at `floor` when `exact`. `bytes`: UTF-8. `none`: a NULL-typed column.
 */
export type Literal =
  | { kind: 'number'; value: number }
  | { kind: 'wide'; floor: bigint; exact: boolean }
  | { kind: 'bytes'; bytes: Uint8Array }
  | { kind: 'none' };

const INTEGER = /^[+-]?\d+$/;
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;
const NANOS_PER_UNIT: Record<TimeUnit, bigint> = {
  [TimeUnit.SECOND]: 1_000_000_000n,
  [TimeUnit.MILLISECOND]: 1_000_000n,
  [TimeUnit.MICROSECOND]: 1_000n,
  [TimeUnit.NANOSECOND]: 1n,
};
const encoder = new TextEncoder();

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
}

function asNumber(value: Scalar): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'string' && NUMBER.test(value.trim())) return Number(value.trim());
  return undefined;
}

function asWideInteger(value: Scalar): Literal | undefined {
  if (typeof value === 'string' && INTEGER.test(value.trim()))
    return { kind: 'wide', floor: BigInt(value.trim()), exact: true };
  const number = asNumber(value);
  if (number === undefined) return undefined;
  return { kind: 'wide', floor: BigInt(Math.floor(number)), exact: Number.isInteger(number) };
}

/** Nanoseconds in the column's unit: the floor, and whether it is exact. */
function inUnit(nanos: bigint, perUnit: bigint): Literal {
  return { kind: 'wide', floor: floorDiv(nanos, perUnit), exact: nanos % perUnit === 0n };
}

function parse(value: Scalar, column: ColumnInfo): Literal | undefined {
  const type = column.type;
  switch (column.family) {
    case 'null':
      return { kind: 'none' };
    case 'int':
    case 'float':
    case 'decimal': {
      if (column.physical === 'wide') return asWideInteger(value);
      const number = asNumber(value);
      return number === undefined ? undefined : { kind: 'number', value: number };
    }
    case 'bool': {
      const text = typeof value === 'string' ? value.trim().toLowerCase() : undefined;
      if (value === true || text === 'true') return { kind: 'number', value: 1 };
      if (value === false || text === 'false') return { kind: 'number', value: 0 };
      return undefined;
    }
    case 'date': {
      const days = typeof value === 'string' ? parseIsoDate(value) : undefined;
      if (days === undefined) return undefined;
      return column.physical === 'wide'
        ? { kind: 'wide', floor: BigInt(days) * 86_400_000n, exact: true }
        : { kind: 'number', value: days };
    }
    case 'timestamp': {
      const nanos = typeof value === 'string' ? parseIsoTimestamp(value) : undefined;
      return nanos === undefined
        ? undefined
        : inUnit(nanos, NANOS_PER_UNIT[(type as Timestamp).unit]);
    }
    case 'string':
      return typeof value === 'string'
        ? { kind: 'bytes', bytes: encoder.encode(value) }
        : undefined;
    case 'time':
      return undefined;
  }
}

const EXPECTED: Record<ColumnInfo['family'], string> = {
  int: 'a number',
  float: 'a number',
  decimal: 'a number',
  bool: 'a boolean',
  date: 'an ISO date (YYYY-MM-DD)',
  timestamp: 'an ISO timestamp (YYYY-MM-DDTHH:MM:SS[.fff][Z])',
  string: 'a string',
  time: 'comparable (filters on time columns are not supported)',
  null: 'anything',
};

/** The literal `value` for comparing with `column` (named `name`), or a KernelError. */
export function parseLiteral(value: Scalar, column: ColumnInfo, name: string): Literal {
  const literal = parse(value, column);
  if (literal !== undefined) return literal;
  const what = DataType.isDictionary(column.type) ? 'Dictionary<Utf8>' : String(column.type);
  throw new KernelError(
    `filter on column "${name}": ${JSON.stringify(value)} is not ${EXPECTED[column.family]} (the column is ${what})`,
    name,
  );
}
