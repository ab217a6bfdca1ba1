/** What the kernels make of an Arrow column type: how its values are read, and the type results keep. */
import { DataType, DateUnit, Float64, Precision, type Dictionary } from 'apache-arrow';

/**
 * How values are read: `number` as JS numbers from a typed array (ints up to 32 bits, floats, dates in
 * days, booleans as 0/1, decimals converted to float), `wide` as two 32-bit words per value (64-bit
 * integers, timestamps, Date64), `bytes` as UTF-8 ranges, `dict` as indices into UTF-8 dictionary values.
 */
export type Physical = 'number' | 'wide' | 'bytes' | 'dict';

/** What the values mean, for filters and for which aggregates apply. */
export type Family =
  'int' | 'float' | 'decimal' | 'bool' | 'date' | 'timestamp' | 'time' | 'string' | 'null';

export interface ColumnInfo {
  /** The column's own type. */
  readonly type: DataType;
  readonly physical: Physical;
  readonly family: Family;
  /** `wide` only: the words hold an unsigned 64-bit integer. */
  readonly unsigned: boolean;
  /** `wide` only: Date64, whose milliseconds hash as days (like Date32). */
  readonly dateMillis: boolean;
  /** The type of the column's values in results: dictionaries decoded, decimals as Float64. */
  readonly output: DataType;
}

function info(
  type: DataType,
  physical: Physical,
  family: Family,
  extra: Partial<ColumnInfo> = {},
): ColumnInfo {
  return { type, physical, family, unsigned: false, dateMillis: false, output: type, ...extra };
}

/** The column info of `type`, or undefined when the kernels cannot read it. */
export function describeType(type: DataType): ColumnInfo | undefined {
  if (DataType.isNull(type)) return info(type, 'number', 'null');
  if (DataType.isInt(type)) {
    return type.bitWidth === 64
      ? info(type, 'wide', 'int', { unsigned: !type.isSigned })
      : info(type, 'number', 'int');
  }
  if (DataType.isFloat(type))
    return type.precision === Precision.HALF ? undefined : info(type, 'number', 'float');
  if (DataType.isDecimal(type)) return info(type, 'number', 'decimal', { output: new Float64() });
  if (DataType.isBool(type)) return info(type, 'number', 'bool');
  if (DataType.isDate(type)) {
    return type.unit === DateUnit.DAY
      ? info(type, 'number', 'date')
      : info(type, 'wide', 'date', { dateMillis: true });
  }
  if (DataType.isTimestamp(type)) return info(type, 'wide', 'timestamp');
  if (DataType.isTime(type)) return info(type, type.bitWidth === 64 ? 'wide' : 'number', 'time');
  if (DataType.isUtf8(type) || DataType.isLargeUtf8(type)) return info(type, 'bytes', 'string');
  if (DataType.isDictionary(type)) {
    const values = (type as Dictionary).dictionary;
    if (!DataType.isUtf8(values) && !DataType.isLargeUtf8(values)) return undefined;
    return info(type, 'dict', 'string', { output: values });
  }
  return undefined;
}

/** Whether sum and avg apply: integers, floats and decimals (and NULL-typed columns, which sum to NULL). */
export function isNumeric(column: ColumnInfo): boolean {
  return (
    column.family === 'int' ||
    column.family === 'float' ||
    column.family === 'decimal' ||
    column.family === 'null'
  );
}

/** Whether sums are exact integer sums (rather than float sums). */
export function isIntegerFamily(column: ColumnInfo): boolean {
  return column.family === 'int';
}
