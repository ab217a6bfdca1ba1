/**
 * A column chunk's values for all its rows, built page by page: fixed-width values (as 32-bit
 * words), booleans (a byte each), or strings (dictionary indices, with any plainly encoded values
 * appended to the dictionary, so a string column is a dictionary in every row group). NULL rows
 * hold zeros (entry 0 for strings), whatever the arrays held before.
 */
import { freshArrays, type ColumnArrays } from './column-arrays.ts';
import { WasmDictionary, wasmDictionaryPage } from './dictionary-page-wasm.ts';
import { ParquetFormatError } from './errors.ts';
import { HybridReader } from './hybrid.ts';
import { unpackBits } from '../../validity-bytes.ts';

/** Where a page's values go: rows [row, row + count), and which of them are NULL. */
export interface PageRows {
  row: number;
  count: number;
  /** One byte per row, 0 for NULL; null when the page has no NULLs. */
  valid: Uint8Array | null;
  /** The number of non-NULL values the page holds. */
  values: number;
}

export interface ColumnValues {
  /** The dictionary page's PLAIN values. */
  setDictionary(bytes: Uint8Array, count: number): void;
  plain(bytes: Uint8Array, position: number, end: number, page: PageRows): void;
  /**
   * A dictionary-encoded page (`encoded`: the bit width, then the runs) decoded in WebAssembly;
   * false when it is not, and the caller hands the page's indices to `indices`.
   */
  wasmIndices(encoded: Uint8Array, page: PageRows): boolean;
  /** Dictionary indices (`page.values` of them) for the page's non-NULL rows. */
  indices(indices: Int32Array, page: PageRows): void;
  /** A page whose rows are all NULL: they hold zeros, as every NULL row does. */
  nulls(page: PageRows): void;
}

function corrupt(reason: string): ParquetFormatError {
  return new ParquetFormatError(reason);
}

/** Copies `bytes[start, start + length)` into a fresh, aligned buffer. */
function aligned(bytes: Uint8Array, start: number, length: number): ArrayBuffer {
  const copy = new Uint8Array(length);
  copy.set(bytes.subarray(start, start + length));
  return copy.buffer;
}

/** 4- or 8-byte values, kept as 32-bit words (`width / 4` per row). */
export class FixedValues implements ColumnValues {
  private array: Int32Array | null = null;
  private dictionary: Int32Array | null = null;
  private wasmDictionary: WasmDictionary | null = null;
  private readonly stride: number;

  constructor(
    readonly rows: number,
    private readonly width: 4 | 8,
    private readonly arrays: ColumnArrays = freshArrays,
  ) {
    this.stride = width / 4;
  }

  /**
   * The rows' words: the kernel's memory (see inPlace), else the column's arrays, taken at the
   * first write, so that a column whose values stay in place never allocates (or faults in) its
   * own 4 or 8 MB a 1M-row group.
   */
  get words(): Int32Array {
    return (this.array ??= this.arrays.int32('values', this.rows * this.stride));
  }

  set words(words: Int32Array) {
    this.array = words;
  }

  setDictionary(bytes: Uint8Array, count: number): void {
    const length = count * this.width;
    if (length > bytes.length) throw corrupt('the dictionary page is too short');
    const dictionary = this.arrays.int32('dictionary', count * this.stride);
    bytesOf(dictionary).set(bytes.subarray(0, length));
    this.dictionary = dictionary;
    this.wasmDictionary = new WasmDictionary(bytesOf(dictionary), count, this.width);
  }

  plain(bytes: Uint8Array, position: number, end: number, page: PageRows): void {
    const length = page.values * this.width;
    if (position + length > end) throw corrupt('a data page holds fewer values than it says');
    if (!page.valid) {
      bytesOf(this.words).set(bytes.subarray(position, position + length), page.row * this.width);
      return;
    }
    const dense = new Int32Array(aligned(bytes, position, length));
    this.scatter(dense, page);
  }

  nulls(page: PageRows): void {
    this.words.fill(0, page.row * this.stride, (page.row + page.count) * this.stride);
  }

  wasmIndices(encoded: Uint8Array, page: PageRows): boolean {
    const { lane } = this.arrays;
    const words =
      this.wasmDictionary && wasmDictionaryPage(encoded, page, this.wasmDictionary, lane ?? 0);
    if (!words) return false;
    if (inPlace(lane, page, this.rows)) this.words = words;
    else this.words.set(words, page.row * this.stride);
    return true;
  }

  indices(indices: Int32Array, page: PageRows): void {
    const dictionary = this.dictionary;
    if (!dictionary) throw corrupt('a dictionary-encoded page comes without a dictionary');
    const size = dictionary.length / this.stride;
    if (page.valid) {
      checkIndex(largestIndex(indices, page.values), size);
      this.gatherSparse(dictionary, indices, page);
    } else if (this.stride === 1) {
      checkIndex(gather32(dictionary, indices, page.values, this.words, page.row), size);
    } else {
      checkIndex(this.gatherWords(dictionary, indices, page, size), size);
    }
  }

  /**
   * gather64 into the column; an index past the dictionary reads undefined, which a BigInt64Array
   * refuses with a TypeError: that becomes the corruption it is (no check slows the loop).
   */
  private gatherWords(
    dictionary: Int32Array,
    indices: Int32Array,
    page: PageRows,
    size: number,
  ): number {
    const out = wordPairs(this.words);
    try {
      return gather64(wordPairs(dictionary), indices, page.values, out, page.row);
    } catch (error) {
      checkIndex(largestIndex(indices, page.values), size);
      throw error;
    }
  }

  private gatherSparse(dictionary: Int32Array, indices: Int32Array, page: PageRows): void {
    const { words, stride } = this;
    const valid = page.valid!;
    let j = 0;
    for (let r = 0, at = page.row * stride; r < page.count; r++, at += stride) {
      if (valid[r] === 0) {
        for (let w = 0; w < stride; w++) words[at + w] = 0;
        continue;
      }
      const index = indices[j++]!;
      for (let w = 0; w < stride; w++) words[at + w] = dictionary[index * stride + w]!;
    }
  }

  private scatter(dense: Int32Array, page: PageRows): void {
    const { words, stride } = this;
    const valid = page.valid!;
    let j = 0;
    for (let r = 0, at = page.row * stride; r < page.count; r++, at += stride) {
      if (valid[r] === 0) {
        for (let w = 0; w < stride; w++) words[at + w] = 0;
        continue;
      }
      for (let w = 0; w < stride; w++) words[at + w] = dense[j * stride + w]!;
      j++;
    }
  }
}

/**
 * Whether a page's values stay where the kernel decoded them (its lane's memory) rather than being
 * copied into the column's arrays: when the page holds the whole chunk (one data page, as DuckDB
 * and others write a row group's column), in a lane of the column's own. A 1M-row page of 8-byte
 * values is then never copied (~2 ms, and 16 MB through the caches).
 */
const inPlace = (lane: number | null, page: PageRows, rows: number): lane is number =>
  lane !== null && page.row === 0 && page.count === rows;

/** The bytes under `words` (which may be the start of a larger reused buffer). */
function bytesOf(words: Int32Array): Uint8Array {
  return new Uint8Array(words.buffer, words.byteOffset, words.byteLength);
}

/** Throws unless `largest` (the largest index of a page, as unsigned) is below `size`. */
function checkIndex(largest: number, size: number): void {
  if (largest >= size) throw corrupt(`dictionary index ${largest} is past the ${size} entries`);
}

/**
 * `out[at + i] = dictionary[indices[i]]`; returns the largest index (unsigned), to be checked.
 * Four values an iteration (see "Hot loops" in kernels/README.md).
 */
function gather32(
  dictionary: Int32Array,
  indices: Int32Array,
  count: number,
  out: Int32Array,
  at: number,
): number {
  let largest = 0;
  let i = 0;
  for (; i + 3 < count; i += 4) {
    const i0 = indices[i]!;
    const i1 = indices[i + 1]!;
    const i2 = indices[i + 2]!;
    const i3 = indices[i + 3]!;
    largest = Math.max(largest, i0 >>> 0, i1 >>> 0, i2 >>> 0, i3 >>> 0);
    out[at + i] = dictionary[i0]!;
    out[at + i + 1] = dictionary[i1]!;
    out[at + i + 2] = dictionary[i2]!;
    out[at + i + 3] = dictionary[i3]!;
  }
  for (; i < count; i++) {
    const index = indices[i]!;
    largest = Math.max(largest, index >>> 0);
    out[at + i] = dictionary[index]!;
  }
  return largest;
}

/**
 * gather32 over 64-bit values. BigInt64Array copies compile to plain 8-byte moves (optimized code
 * makes no BigInt): 2.5× faster than moving word pairs. A copy of gather32, not one function over
 * both array types, which V8 would compile polymorphic (see "Hot loops" in kernels/README.md).
 */
function gather64(
  dictionary: BigInt64Array,
  indices: Int32Array,
  count: number,
  out: BigInt64Array,
  at: number,
): number {
  let largest = 0;
  let i = 0;
  for (; i + 3 < count; i += 4) {
    const i0 = indices[i]!;
    const i1 = indices[i + 1]!;
    const i2 = indices[i + 2]!;
    const i3 = indices[i + 3]!;
    largest = Math.max(largest, i0 >>> 0, i1 >>> 0, i2 >>> 0, i3 >>> 0);
    out[at + i] = dictionary[i0]!;
    out[at + i + 1] = dictionary[i1]!;
    out[at + i + 2] = dictionary[i2]!;
    out[at + i + 3] = dictionary[i3]!;
  }
  for (; i < count; i++) {
    const index = indices[i]!;
    largest = Math.max(largest, index >>> 0);
    out[at + i] = dictionary[index]!;
  }
  return largest;
}

/** The 64-bit values under `words`: 8-byte aligned, as every column array starts its buffer. */
function wordPairs(words: Int32Array): BigInt64Array {
  return new BigInt64Array(words.buffer, words.byteOffset, words.length >> 1);
}

/** The largest of the first `count` indices (unsigned). */
function largestIndex(indices: Int32Array, count: number): number {
  let largest = 0;
  let i = 0;
  for (; i + 3 < count; i += 4) {
    largest = Math.max(
      largest,
      indices[i]! >>> 0,
      indices[i + 1]! >>> 0,
      indices[i + 2]! >>> 0,
      indices[i + 3]! >>> 0,
    );
  }
  for (; i < count; i++) largest = Math.max(largest, indices[i]! >>> 0);
  return largest;
}

/** Booleans, a byte each (PLAIN bit-packed or RLE in the file). */
export class BoolValues implements ColumnValues {
  readonly bytes: Uint8Array;

  constructor(rows: number, arrays: ColumnArrays = freshArrays) {
    this.bytes = arrays.uint8('values', rows);
  }

  setDictionary(): void {
    throw corrupt('a BOOLEAN column has a dictionary page');
  }

  plain(bytes: Uint8Array, position: number, end: number, page: PageRows): void {
    if (position + Math.ceil(page.values / 8) > end) {
      throw corrupt('a data page holds fewer values than it says');
    }
    this.place(unpackBits(bytes, position * 8, page.values), page);
  }

  /** RLE-encoded booleans: a 4-byte length, then the hybrid runs of 1-bit values. */
  rle(bytes: Uint8Array, position: number, end: number, page: PageRows): void {
    const dense = new Uint8Array(page.values);
    new HybridReader(bytes, position + 4, end).readBits(page.values, dense);
    this.place(dense, page);
  }

  wasmIndices(): boolean {
    return false;
  }

  nulls(page: PageRows): void {
    this.bytes.fill(0, page.row, page.row + page.count);
  }

  indices(): void {
    throw corrupt('a BOOLEAN column has dictionary-encoded pages');
  }

  private place(dense: Uint8Array, page: PageRows): void {
    if (!page.valid) {
      this.bytes.set(dense, page.row);
      return;
    }
    let j = 0;
    for (let r = 0; r < page.count; r++)
      this.bytes[page.row + r] = page.valid[r] !== 0 ? dense[j++]! : 0;
  }
}

/** A growable byte buffer with the offsets of the values appended to it. */
class ByteList {
  bytes = new Uint8Array(1024);
  offsets = new Int32Array(65);
  count = 0;

  append(source: Uint8Array, start: number, length: number): void {
    const from = this.offsets[this.count]!;
    if (from + length > this.bytes.length) this.bytes = grow(this.bytes, from + length);
    if (this.count + 2 > this.offsets.length) this.offsets = grow(this.offsets, this.count + 2);
    if (length > 16) this.bytes.set(source.subarray(start, start + length), from);
    else for (let i = 0; i < length; i++) this.bytes[from + i] = source[start + i]!;
    this.offsets[++this.count] = from + length;
  }
}

function grow<T extends Uint8Array | Int32Array>(array: T, needed: number): T {
  let size = array.length * 2;
  while (size < needed) size *= 2;
  const next = new (array.constructor as new (size: number) => T)(size);
  next.set(array);
  return next;
}

/** Strings as indices into one list of entries: the dictionary page's, then any plain values. */
export class StringValues implements ColumnValues {
  private array: Int32Array | null = null;
  readonly entries = new ByteList();
  private dictionarySize = 0;

  constructor(
    private readonly rows: number,
    private readonly arrays: ColumnArrays = freshArrays,
  ) {}

  /** The rows' entries: as FixedValues.words. */
  get codes(): Int32Array {
    return (this.array ??= this.arrays.int32('values', this.rows));
  }

  set codes(codes: Int32Array) {
    this.array = codes;
  }

  setDictionary(bytes: Uint8Array, count: number): void {
    if (this.entries.count > 0) throw corrupt('a column chunk has two dictionary pages');
    readByteArrays(bytes, 0, bytes.length, count, this.entries);
    this.dictionarySize = count;
  }

  plain(bytes: Uint8Array, position: number, end: number, page: PageRows): void {
    const first = this.entries.count;
    readByteArrays(bytes, position, end, page.values, this.entries);
    let j = first;
    for (let r = 0; r < page.count; r++) {
      this.codes[page.row + r] = !page.valid || page.valid[r] !== 0 ? j++ : 0;
    }
  }

  nulls(page: PageRows): void {
    this.codes.fill(0, page.row, page.row + page.count);
  }

  wasmIndices(encoded: Uint8Array, page: PageRows): boolean {
    const { lane } = this.arrays;
    const codes =
      this.dictionarySize > 0 && wasmDictionaryPage(encoded, page, this.dictionarySize, lane ?? 0);
    if (!codes) return false;
    if (inPlace(lane, page, this.rows)) this.codes = codes;
    else this.codes.set(codes, page.row);
    return true;
  }

  indices(indices: Int32Array, page: PageRows): void {
    if (this.dictionarySize === 0) {
      throw corrupt('a dictionary-encoded page comes without a dictionary');
    }
    checkIndex(largestIndex(indices, page.values), this.dictionarySize);
    const { codes } = this;
    const valid = page.valid;
    if (!valid) {
      codes.set(indices.subarray(0, page.values), page.row);
      return;
    }
    // Branch-free, four rows an iteration (see "Hot loops" in kernels/README.md): a NULL row
    // (valid 0) masks the index it reads to 0 and does not advance. After the last value it reads
    // the slot one past them, which `Scratch.indices` always has.
    const at = page.row;
    let j = 0;
    let r = 0;
    for (; r + 3 < page.count; r += 4) {
      const v0 = valid[r]!;
      const v1 = valid[r + 1]!;
      const v2 = valid[r + 2]!;
      const v3 = valid[r + 3]!;
      codes[at + r] = indices[j]! & -v0;
      j += v0;
      codes[at + r + 1] = indices[j]! & -v1;
      j += v1;
      codes[at + r + 2] = indices[j]! & -v2;
      j += v2;
      codes[at + r + 3] = indices[j]! & -v3;
      j += v3;
    }
    for (; r < page.count; r++) {
      const v = valid[r]!;
      codes[at + r] = indices[j]! & -v;
      j += v;
    }
  }
}

/** `count` PLAIN byte arrays (each a 4-byte length, then the bytes) from `bytes[position, end)`. */
function readByteArrays(
  bytes: Uint8Array,
  position: number,
  end: number,
  count: number,
  into: ByteList,
): void {
  let p = position;
  for (let i = 0; i < count; i++) {
    if (p + 4 > end) throw corrupt('a data page holds fewer values than it says');
    const length =
      (bytes[p]! | (bytes[p + 1]! << 8) | (bytes[p + 2]! << 16)) + bytes[p + 3]! * 2 ** 24;
    p += 4;
    if (p + length > end) throw corrupt('a string runs past the end of its page');
    into.append(bytes, p, length);
    p += length;
  }
}
