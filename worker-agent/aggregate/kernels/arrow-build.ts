/** Small builders of Arrow data and tables from typed arrays (no per-value Arrow builders). */
import {
  Data,
  DataType,
  Field,
  Int64,
  RecordBatch,
  Schema,
  Struct,
  Table,
  vectorFromArray,
} from 'apache-arrow';
import type { NumArray } from './column-view.ts';

/** A validity bitmap from one byte per value (non-zero = valid); none when every value is valid. */
export function packValidity(
  flags: ArrayLike<number>,
  length: number,
): { bitmap: Uint8Array | undefined; nulls: number } {
  let nulls = 0;
  for (let i = 0; i < length; i++) if (flags[i] === 0) nulls++;
  if (nulls === 0) return { bitmap: undefined, nulls };
  return { bitmap: packBits(flags, length), nulls };
}

/** Bits set where `flags[i]` is non-zero. */
export function packBits(flags: ArrayLike<number>, length: number): Uint8Array {
  const bits = new Uint8Array((length + 7) >> 3);
  for (let i = 0; i < length; i++) if (flags[i] !== 0) bits[i >> 3]! |= 1 << (i & 7);
  return bits;
}

/** Data of a fixed-width type over `values` (one element per value, or `stride` for decimals). */
export function fixedData(
  type: DataType,
  values: NumArray | BigInt64Array | BigUint64Array,
  length: number,
  validity?: ArrayLike<number>,
): Data {
  const { bitmap, nulls } = validity
    ? packValidity(validity, length)
    : { bitmap: undefined, nulls: 0 };
  return new Data(type, 0, length, nulls, [undefined, values, bitmap]);
}

/** Booleans from one byte per value. */
export function boolData(
  type: DataType,
  values: ArrayLike<number>,
  length: number,
  validity?: ArrayLike<number>,
): Data {
  return fixedData(type, packBits(values, length), length, validity);
}

/** Utf8 or LargeUtf8 data from Int32 offsets and UTF-8 bytes. */
export function stringData(
  type: DataType,
  offsets: Int32Array,
  bytes: Uint8Array,
  length: number,
  validity?: ArrayLike<number>,
): Data {
  const { bitmap, nulls } = validity
    ? packValidity(validity, length)
    : { bitmap: undefined, nulls: 0 };
  const valueOffsets = DataType.isLargeUtf8(type)
    ? BigInt64Array.from(offsets, (offset) => BigInt(offset))
    : offsets;
  return new Data(type, 0, length, nulls, [valueOffsets, bytes, bitmap]);
}

/** Int64 data from counts held as (exact, non-negative) doubles, of `groups` (all, in order, when null). */
export function int64FromCounts(
  counts: Float64Array,
  groups: Int32Array | null,
  length: number,
): Data {
  const words = new Int32Array(length * 2);
  for (let i = 0; i < length; i++) {
    const count = counts[groups ? groups[i]! : i]!;
    words[2 * i] = count >>> 0;
    words[2 * i + 1] = Math.floor(count / 0x1_0000_0000);
  }
  return fixedData(new Int64(), new BigInt64Array(words.buffer), length);
}

/** Reads an Int64 (or Uint64) column's values as doubles (exact below 2^53, as counts are). */
export function countsOf(data: Data): Float64Array {
  const values = data.values as BigInt64Array;
  const words = new Int32Array(values.buffer, values.byteOffset, data.length * 2);
  const out = new Float64Array(data.length);
  for (let i = 0; i < data.length; i++)
    out[i] = words[2 * i + 1]! * 0x1_0000_0000 + (words[2 * i]! >>> 0);
  return out;
}

/** `length` NULLs of any type. */
export function nullData(type: DataType, length: number): Data {
  return vectorFromArray(new Array<null>(length).fill(null), type).data[0]!;
}

/** A one-batch table of named columns (every column `length` long). */
export function tableOf(
  fields: readonly Field[],
  columns: readonly Data[],
  length: number,
  metadata?: Map<string, string>,
): Table {
  const schema = new Schema([...fields], metadata);
  const struct = new Data(new Struct([...fields]), 0, length, 0, undefined, [...columns]);
  return new Table([new RecordBatch(schema, struct)]);
}

/** `a` and `b` are the same Arrow type. */
export function sameType(a: DataType, b: DataType): boolean {
  return (
    String(a) === String(b) &&
    a.typeId === b.typeId &&
    DataType.isLargeUtf8(a) === DataType.isLargeUtf8(b)
  );
}
