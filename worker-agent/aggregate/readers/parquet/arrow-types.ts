/**
 * The Arrow type the reader gives a Parquet column, matching what parquet-wasm (arrow-rs) gives the
 * same column, or the reason the reader leaves the file to parquet-wasm.
 */
import {
  Bool,
  DateDay,
  Decimal,
  Float32,
  Float64,
  Int16,
  Int32,
  Int64,
  Int8,
  TimeUnit,
  Timestamp,
  Uint16,
  Uint32,
  Uint64,
  Uint8,
  Utf8,
  type DataType,
} from 'apache-arrow';
import { Converted, Logical, Physical } from './format.ts';
import { field, type ThriftStruct } from './thrift.ts';

export type ArrowMapping = { type: DataType } | { unsupported: string };

/** Schema element fields (parquet.thrift SchemaElement). */
const TYPE = 1;
const CONVERTED = 6;
const SCALE = 7;
const PRECISION = 8;
const LOGICAL = 10;

const UNITS = [TimeUnit.MILLISECOND, TimeUnit.MICROSECOND, TimeUnit.NANOSECOND];

function integer(bits: number, signed: boolean): DataType | undefined {
  if (signed)
    return bits === 8
      ? new Int8()
      : bits === 16
        ? new Int16()
        : bits === 32
          ? new Int32()
          : bits === 64
            ? new Int64()
            : undefined;
  return bits === 8
    ? new Uint8()
    : bits === 16
      ? new Uint16()
      : bits === 32
        ? new Uint32()
        : bits === 64
          ? new Uint64()
          : undefined;
}

const CONVERTED_INTEGERS: Record<number, [number, boolean]> = {
  [Converted.INT_8]: [8, true],
  [Converted.INT_16]: [16, true],
  [Converted.INT_32]: [32, true],
  [Converted.INT_64]: [64, true],
  [Converted.UINT_8]: [8, false],
  [Converted.UINT_16]: [16, false],
  [Converted.UINT_32]: [32, false],
  [Converted.UINT_64]: [64, false],
};

/** An INT32/INT64 decimal as Decimal128 (as arrow-rs reads it); scale and precision from either annotation. */
function decimal(element: ThriftStruct, logical: ThriftStruct | undefined): ArrowMapping {
  const annotation = logical?.[Logical.DECIMAL] as ThriftStruct | undefined;
  const scale = annotation ? field.optionalInt(annotation, 1) : field.optionalInt(element, SCALE);
  const precision = annotation
    ? field.optionalInt(annotation, 2)
    : field.optionalInt(element, PRECISION);
  if (scale === undefined || precision === undefined)
    return { unsupported: 'a decimal without scale' };
  return { type: new Decimal(scale, precision, 128) };
}

/** The Arrow type of a leaf schema element. */
export function arrowMapping(element: ThriftStruct): ArrowMapping {
  const physical = field.optionalInt(element, TYPE);
  const converted = field.optionalInt(element, CONVERTED);
  const logical = field.optionalStruct(element, LOGICAL);
  const logicalKind = logical ? logical.findIndex((value) => value !== undefined) : -1;
  const annotated = logicalKind >= 0 || converted !== undefined;
  const unsupported = (what: string): ArrowMapping => ({ unsupported: what });
  switch (physical) {
    case Physical.BOOLEAN:
      return annotated ? unsupported('annotated BOOLEAN') : { type: new Bool() };
    case Physical.FLOAT:
      return annotated ? unsupported('annotated FLOAT') : { type: new Float32() };
    case Physical.DOUBLE:
      return annotated ? unsupported('annotated DOUBLE') : { type: new Float64() };
    case Physical.INT32:
    case Physical.INT64: {
      const bits = physical === Physical.INT32 ? 32 : 64;
      if (!annotated) return { type: bits === 32 ? new Int32() : new Int64() };
      if (logicalKind === Logical.DECIMAL || (logicalKind < 0 && converted === Converted.DECIMAL)) {
        return decimal(element, logical);
      }
      if (logicalKind === Logical.DATE || (logicalKind < 0 && converted === Converted.DATE)) {
        return bits === 32 ? { type: new DateDay() } : unsupported('INT64 DATE');
      }
      if (logicalKind === Logical.TIMESTAMP && bits === 64) {
        const timestamp = logical![Logical.TIMESTAMP] as ThriftStruct;
        const utc = field.bool(timestamp, 1) ?? false;
        const unit =
          UNITS[(field.optionalStruct(timestamp, 2) ?? []).findIndex((v) => v !== undefined) - 1];
        if (unit === undefined) return unsupported('a timestamp unit');
        return { type: new Timestamp(unit, utc ? 'UTC' : null) };
      }
      const declared =
        logicalKind === Logical.INTEGER
          ? ([
              field.optionalInt(logical![Logical.INTEGER] as ThriftStruct, 1),
              field.bool(logical![Logical.INTEGER] as ThriftStruct, 2),
            ] as const)
          : logicalKind < 0 && converted !== undefined
            ? CONVERTED_INTEGERS[converted]
            : undefined;
      const type = declared && integer(declared[0] ?? 0, declared[1] ?? true);
      if (!type || (bits === 64) !== (declared![0] === 64))
        return unsupported(`this ${bits}-bit annotation`);
      return { type };
    }
    case Physical.BYTE_ARRAY: {
      const text =
        logicalKind === Logical.STRING ||
        logicalKind === Logical.JSON ||
        (logicalKind < 0 && converted === Converted.UTF8);
      return text ? { type: new Utf8() } : unsupported('binary or annotated BYTE_ARRAY');
    }
    default:
      return unsupported(`physical type ${physical}`);
  }
}
