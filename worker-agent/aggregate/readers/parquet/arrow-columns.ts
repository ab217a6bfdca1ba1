/** A decoded column chunk as Arrow data, sliced into the record batches the kernels read. */
import {
  Data,
  DataType,
  Dictionary,
  Field,
  Int32,
  makeData,
  makeVector,
  RecordBatch,
  Schema,
  Struct,
  Utf8,
  type Vector,
} from 'apache-arrow';
import { attachValidityBytes } from '../../validity-bytes.ts';
import { BYTE_ONES } from './bit-count.ts';
import { freshArrays, type ColumnArrays } from './column-arrays.ts';
import { BoolValues, FixedValues, StringValues, type ColumnValues } from './column-values.ts';
import { Physical } from './format.ts';

/** The value builder for a column of `physical` type, decoding into `arrays`. */
export function valuesFor(
  physical: number,
  rows: number,
  arrays: ColumnArrays = freshArrays,
): ColumnValues {
  if (physical === Physical.BOOLEAN) return new BoolValues(rows, arrays);
  if (physical === Physical.BYTE_ARRAY) return new StringValues(rows, arrays);
  const width = physical === Physical.INT64 || physical === Physical.DOUBLE ? 8 : 4;
  return new FixedValues(rows, width, arrays);
}

/** A whole decoded chunk, ready to slice: `data(start, length)` is rows [start, start + length). */
export interface ArrowColumn {
  type: DataType;
  data(start: number, length: number): Data;
}

/** 32- or 64-bit unscaled decimals (one or two words each) as Decimal128's four words, sign-extended. */
function decimalWords(words: Int32Array, rows: number): Uint32Array {
  const stride = words.length / Math.max(1, rows);
  const out = new Int32Array(rows * 4);
  for (let i = 0; i < rows; i++) {
    const low = words[i * stride]!;
    const high = stride === 2 ? words[i * stride + 1]! : low >> 31;
    const sign = high >> 31;
    out[i * 4] = low;
    out[i * 4 + 1] = high;
    out[i * 4 + 2] = sign;
    out[i * 4 + 3] = sign;
  }
  return new Uint32Array(out.buffer);
}

/** The typed array an Arrow type's values take, over (or converted from) the chunk's words. */
function typedValues(type: DataType, words: Int32Array, rows: number): ArrayBufferView {
  if (DataType.isDecimal(type)) return decimalWords(words, rows);
  if (DataType.isInt(type) && type.bitWidth < 32) {
    const Array = type.ArrayType as unknown as new (source: Int32Array) => ArrayBufferView;
    return new Array(words);
  }
  // A view of the words themselves (which may start a larger, reused buffer).
  const Array = type.ArrayType as unknown as {
    new (buffer: ArrayBufferLike, byteOffset: number, length: number): ArrayBufferView;
    BYTES_PER_ELEMENT: number;
  };
  return new Array(words.buffer, words.byteOffset, words.byteLength / Array.BYTES_PER_ELEMENT);
}

/** Bytes 0 or 1 at bits 0, 8, 16 and 24 of `word` (little-endian) as bits 0 to 3. */
const fourBits = (word: number): number =>
  (word | (word >>> 7) | (word >>> 14) | (word >>> 21)) & 15;

/**
 * Packs one byte per row (0 or 1) into Arrow's validity bitmap, eight at a time (as two 32-bit
 * words when the bytes are aligned for it); counts the NULLs.
 */
function bitmap(
  valid: Uint8Array,
  start: number,
  length: number,
): { bits: Uint8Array; nulls: number } {
  const bits = new Uint8Array((length + 7) >> 3);
  let set = 0;
  const whole = length >> 3;
  const offset = valid.byteOffset + start;
  if (offset % 4 === 0) {
    const words = new Uint32Array(valid.buffer, offset, whole * 2);
    for (let j = 0; j < whole; j++) {
      const byte = fourBits(words[2 * j]!) | (fourBits(words[2 * j + 1]!) << 4);
      bits[j] = byte;
      set += BYTE_ONES[byte]!;
    }
  } else {
    for (let j = 0, i = start; j < whole; j++, i += 8) {
      const byte =
        valid[i]! |
        (valid[i + 1]! << 1) |
        (valid[i + 2]! << 2) |
        (valid[i + 3]! << 3) |
        (valid[i + 4]! << 4) |
        (valid[i + 5]! << 5) |
        (valid[i + 6]! << 6) |
        (valid[i + 7]! << 7);
      bits[j] = byte;
      set += BYTE_ONES[byte]!;
    }
  }
  for (let i = whole << 3; i < length; i++) {
    const v = valid[start + i]!;
    bits[i >> 3]! |= v << (i & 7);
    set += v;
  }
  return { bits, nulls: length - set };
}

function validity(valid: Uint8Array | null, start: number, length: number) {
  if (!valid) return { nullCount: 0 };
  const { bits, nulls } = bitmap(valid, start, length);
  return nulls === 0 ? { nullCount: 0 } : { nullCount: nulls, nullBitmap: bits };
}

/**
 * A column whose slices share `type` and validity; `buffers` gives a slice's value buffers. A
 * slice with NULLs keeps its validity bytes beside its bitmap, for the kernels.
 */
function column(
  type: DataType,
  valid: Uint8Array | null,
  buffers: (start: number, length: number) => object,
): ArrowColumn {
  return {
    type,
    data: (start, length) => {
      const data = makeData({
        type,
        length,
        ...validity(valid, start, length),
        ...buffers(start, length),
      } as never) as Data;
      if (valid && data.nullCount > 0)
        attachValidityBytes(data, valid.subarray(start, start + length));
      return data;
    },
  };
}

/** Arrow data over a column chunk's decoded values. */
export function arrowColumn(
  type: DataType,
  values: ColumnValues,
  valid: Uint8Array | null,
): ArrowColumn {
  if (values instanceof StringValues) return dictionaryColumn(values, valid);
  if (values instanceof BoolValues) {
    return column(type, valid, (start, length) => ({
      data: bitmap(values.bytes, start, length).bits,
    }));
  }
  const { words, rows } = values as FixedValues;
  const typed = typedValues(type, words, rows) as Int32Array;
  // Decimal128 takes four words per value; every other type one element.
  const width = DataType.isDecimal(type) ? 4 : 1;
  return column(type, valid, (start, length) => ({
    data: typed.subarray(start * width, (start + length) * width),
  }));
}

/** Strings as Dictionary<Utf8, Int32> (the kernels look each entry up once). */
function dictionaryColumn(values: StringValues, valid: Uint8Array | null): ArrowColumn {
  const { entries } = values;
  // NULL rows point at entry 0, so there must be one.
  if (entries.count === 0) entries.append(new Uint8Array(0), 0, 0);
  const dictionary: Vector = makeVector(
    makeData({
      type: new Utf8(),
      length: entries.count,
      nullCount: 0,
      valueOffsets: entries.offsets.subarray(0, entries.count + 1),
      data: entries.bytes,
    }),
  );
  return column(new Dictionary(new Utf8(), new Int32()), valid, (start, length) => ({
    data: values.codes.subarray(start, start + length),
    dictionary,
  }));
}

/** Record batches of at most `batchRows` rows over a row group's columns. */
export function* recordBatches(
  names: readonly string[],
  columns: readonly ArrowColumn[],
  rows: number,
  batchRows: number,
): Generator<RecordBatch> {
  const fields = columns.map((column, i) => new Field(names[i]!, column.type, true));
  const schema = new Schema(fields);
  const struct = new Struct(fields);
  for (let start = 0; start < rows; start += batchRows) {
    const length = Math.min(batchRows, rows - start);
    const children = columns.map((column) => column.data(start, length));
    yield new RecordBatch(schema, makeData({ type: struct, length, nullCount: 0, children }));
  }
}
