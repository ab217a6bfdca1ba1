/** One chunk of an Arrow column as flat typed arrays, the shape every hot loop reads. */
import { DataType, type Data, type Decimal, type Vector } from 'apache-arrow';
import { attachedValidityBytes, unpackBits } from '../validity-bytes.ts';
import type { ColumnInfo, Physical } from './column-types.ts';

export type NumArray =
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | Float32Array
  | Float64Array;

/** Row `i` is NULL when `valid` exists and `valid[i] === 0`. */
interface Base {
  readonly length: number;
  readonly valid: Uint8Array | null;
}
export interface NumberView extends Base {
  readonly kind: 'number';
  readonly values: NumArray;
}
/** Value `i` is `words[2i]` (low, unsigned) and `words[2i + 1]` (high). */
export interface WideView extends Base {
  readonly kind: 'wide';
  readonly words: Int32Array;
}
/** Value `i` is `bytes[offsets[i], offsets[i + 1])`. */
export interface BytesView extends Base {
  readonly kind: 'bytes';
  readonly bytes: Uint8Array;
  readonly offsets: Int32Array;
}
/** Row `i` is entry `indices[i]` of `dict`; rows pointing at NULL entries are NULL in `valid`. */
export interface DictView extends Base {
  readonly kind: 'dict';
  readonly indices: NumArray;
  readonly dict: BytesView;
  /** The dictionary's identity: the same object while batches share a dictionary. */
  readonly source: object;
}
export type ColumnView = NumberView | WideView | BytesView | DictView;

/** Row validity as one byte per row (null when the chunk has no NULLs); the reader's, if it kept them. */
function validityBytes(data: Data): Uint8Array | null {
  const bitmap = data.nullBitmap;
  if (!bitmap || bitmap.length === 0 || data.nullCount === 0) return null;
  return attachedValidityBytes(data) ?? unpackBits(bitmap, data.offset, data.length);
}

/** Decimals as floats (unscaled / 10^scale), from their little-endian 32-bit words. */
function decimalValues(data: Data, type: Decimal): Float64Array {
  const words = data.values as Uint32Array;
  const stride = type.bitWidth / 32;
  const divisor = 10 ** type.scale;
  const out = new Float64Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const base = i * stride;
    let value = words[base + stride - 1]! | 0;
    for (let w = stride - 2; w >= 0; w--) value = value * 0x1_0000_0000 + words[base + w]!;
    out[i] = value / divisor;
  }
  return out;
}

/** Low words of 64-bit offsets or indices (a chunk's buffers stay far below 2^31 bytes). */
function lowWords(values: BigInt64Array | BigUint64Array, length: number): Int32Array {
  const words = new Int32Array(values.buffer, values.byteOffset, length * 2);
  const out = new Int32Array(length);
  for (let i = 0; i < length; i++) out[i] = words[2 * i]!;
  return out;
}

function bytesView(data: Data, valid: Uint8Array | null): BytesView {
  const raw = data.valueOffsets as Int32Array | BigInt64Array;
  const offsets = raw instanceof BigInt64Array ? lowWords(raw, data.length + 1) : raw;
  return { kind: 'bytes', length: data.length, valid, bytes: data.values as Uint8Array, offsets };
}

/** A dictionary's values as one bytes view (concatenating the rare multi-chunk dictionary). */
function dictionaryBytes(dictionary: Vector): BytesView {
  const chunks = dictionary.data;
  if (chunks.length === 1) return bytesView(chunks[0]!, validityBytes(chunks[0]!));
  const parts = chunks.map((chunk) => bytesView(chunk, validityBytes(chunk)));
  const length = parts.reduce((sum, part) => sum + part.length, 0);
  const size = parts.reduce(
    (sum, part) => sum + (part.offsets[part.length]! - part.offsets[0]!),
    0,
  );
  const bytes = new Uint8Array(size);
  const offsets = new Int32Array(length + 1);
  const valid = new Uint8Array(length).fill(1);
  let row = 0;
  let at = 0;
  for (const part of parts) {
    for (let i = 0; i < part.length; i++, row++) {
      const start = part.offsets[i]!;
      const end = part.offsets[i + 1]!;
      bytes.set(part.bytes.subarray(start, end), at);
      at += end - start;
      offsets[row + 1] = at;
      if (part.valid && part.valid[i] === 0) valid[row] = 0;
    }
  }
  return { kind: 'bytes', length, valid, bytes, offsets };
}

function dictView(data: Data, valid: Uint8Array | null): DictView {
  const dictionary = data.dictionary;
  if (!dictionary) throw new Error('dictionary column without a dictionary');
  const raw = data.values as NumArray | BigInt64Array | BigUint64Array;
  const indices =
    raw instanceof BigInt64Array || raw instanceof BigUint64Array
      ? lowWords(raw, data.length)
      : raw;
  const dict = dictionaryBytes(dictionary);
  let rows = valid;
  if (dict.valid) {
    // A copy: the validity bytes may be the reader's own (see validity-bytes.ts).
    rows = valid?.slice() ?? new Uint8Array(data.length).fill(1);
    for (let i = 0; i < data.length; i++) if (dict.valid[indices[i]!] === 0) rows[i] = 0;
  }
  return { kind: 'dict', length: data.length, valid: rows, indices, dict, source: dictionary };
}

/** A view of `length` NULLs of the given physical kind (a NULL-typed column read as another type). */
export function nullView(physical: Physical, length: number): ColumnView {
  const valid = new Uint8Array(length);
  switch (physical) {
    case 'number':
      return { kind: 'number', length, valid, values: new Float64Array(length) };
    case 'wide':
      return { kind: 'wide', length, valid, words: new Int32Array(length * 2) };
    case 'bytes':
    case 'dict':
      return {
        kind: 'bytes',
        length,
        valid,
        bytes: new Uint8Array(0),
        offsets: new Int32Array(length + 1),
      };
  }
}

/** The view of one chunk of a column described by `column` (the chunk may be NULL-typed). */
export function viewOf(data: Data, column: ColumnInfo): ColumnView {
  if (DataType.isNull(data.type)) return nullView(column.physical, data.length);
  const valid = validityBytes(data);
  const type = data.type as DataType;
  switch (column.physical) {
    case 'number': {
      if (DataType.isBool(type))
        return {
          kind: 'number',
          length: data.length,
          valid,
          values: unpackBits(data.values as Uint8Array, data.offset, data.length),
        };
      if (DataType.isDecimal(type))
        return { kind: 'number', length: data.length, valid, values: decimalValues(data, type) };
      return { kind: 'number', length: data.length, valid, values: data.values as NumArray };
    }
    case 'wide': {
      const values = data.values as BigInt64Array | BigUint64Array;
      return {
        kind: 'wide',
        length: data.length,
        valid,
        words: new Int32Array(values.buffer, values.byteOffset, data.length * 2),
      };
    }
    case 'bytes':
      return bytesView(data, valid);
    case 'dict':
      return dictView(data, valid);
  }
}
