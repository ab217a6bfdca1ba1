/**
 * Parquet's RLE / bit-packed hybrid encoding: definition levels, dictionary indices and RLE
 * booleans. Runs are either one repeated value or groups of 8 values packed LSB first.
 */
import { unpackBitsInto } from '../../validity-bytes.ts';
import { BYTE_ONES } from './bit-count.ts';
import { ParquetFormatError } from './errors.ts';

function corrupt(reason: string): ParquetFormatError {
  return new ParquetFormatError(`corrupt RLE/bit-packed data: ${reason}`);
}

export class HybridReader {
  constructor(
    private readonly bytes: Uint8Array,
    public position: number,
    private readonly end: number,
  ) {}

  /** Decodes `count` values of `bitWidth` bits into `out[at ..]`. */
  read(bitWidth: number, count: number, out: Int32Array, at = 0): void {
    this.decode(bitWidth, count, out, at);
  }

  /**
   * Decodes `count` one-bit values (definition levels, RLE booleans) into `out`, a byte each;
   * returns how many are 1.
   */
  readBits(count: number, out: Uint8Array): number {
    return this.decode(1, count, out, 0);
  }

  /** Byte outputs take one-bit values; returns how many of the values are 1 (for readBits). */
  private decode(
    bitWidth: number,
    count: number,
    out: Int32Array | Uint8Array,
    at: number,
  ): number {
    if (bitWidth < 0 || bitWidth > 32) throw corrupt(`bit width ${bitWidth}`);
    if (at + count > out.length) throw corrupt('more values than room');
    let filled = 0;
    let ones = 0;
    while (filled < count) {
      const header = this.varint();
      const remaining = count - filled;
      if (header % 2 === 0) {
        const run = header / 2;
        if (run === 0) throw corrupt('an empty run');
        const value = this.runValue(bitWidth);
        if (value >>> bitWidth !== 0 && bitWidth < 32)
          throw corrupt(`a run value past ${bitWidth} bits`);
        const take = Math.min(run, remaining);
        out.fill(value, at + filled, at + filled + take);
        if (value === 1) ones += take;
        filled += take;
      } else {
        const values = ((header - 1) / 2) * 8;
        if (values === 0) throw corrupt('an empty bit-packed run');
        const take = Math.min(values, remaining);
        // Writers may cut the last run short after its final value, so only those bytes must be there.
        if (this.position + Math.ceil((take * bitWidth) / 8) > this.end) {
          throw corrupt('a bit-packed run past the end');
        }
        if (out instanceof Uint8Array) {
          unpackBitsInto(this.bytes, this.position * 8, take, out, at + filled);
          ones += onesIn(this.bytes, this.position, take);
        } else unpack(this.bytes, this.position, bitWidth, take, out, at + filled);
        this.position = Math.min(this.end, this.position + (values / 8) * bitWidth);
        filled += take;
      }
    }
    return ones;
  }

  private runValue(bitWidth: number): number {
    const width = (bitWidth + 7) >> 3;
    if (this.position + width > this.end) throw corrupt('a run value past the end');
    let value = 0;
    for (let i = 0; i < width; i++) value += this.bytes[this.position + i]! * 2 ** (8 * i);
    this.position += width;
    return value;
  }

  private varint(): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 5; i++) {
      if (this.position >= this.end) throw corrupt('a run header past the end');
      const b = this.bytes[this.position++]!;
      result += (b & 0x7f) * scale;
      if (b < 0x80) return result;
      scale *= 128;
    }
    throw corrupt('a run header longer than 5 bytes');
  }
}

/** Set bits among the first `count` bits from `bytes[position..]`, a byte at a time. */
function onesIn(bytes: Uint8Array, position: number, count: number): number {
  let ones = 0;
  const whole = count >>> 3;
  for (let i = 0; i < whole; i++) ones += BYTE_ONES[bytes[position + i]!]!;
  const rest = count & 7;
  if (rest > 0) ones += BYTE_ONES[bytes[position + whole]! & ((1 << rest) - 1)]!;
  return ones;
}

/** `count` values of `bitWidth` bits from `bytes[position..]` into `out[at..]` (bounds checked by the caller). */
function unpack(
  bytes: Uint8Array,
  position: number,
  bitWidth: number,
  count: number,
  out: Int32Array,
  at: number,
): void {
  if (bitWidth === 0) {
    out.fill(0, at, at + count);
    return;
  }
  if (bitWidth > 24) {
    unpackWide(bytes, position, bitWidth, count, out, at);
    return;
  }
  // Up to 24 bits: each value lies within the four bytes from its first byte; read them as one
  // little-endian word while four bytes remain in the array, byte by byte after.
  const mask = (1 << bitWidth) - 1;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lastWord = bytes.length - 4;
  const groups = wholeGroups(view, position, bitWidth, count);
  unpackGroups(view, position, bitWidth, groups, out, at);
  let i = groups * 8;
  for (let bit = i * bitWidth; i < count; i++, bit += bitWidth) {
    const p = position + (bit >>> 3);
    if (p > lastWord) break;
    out[at + i] = (view.getUint32(p, true) >>> (bit & 7)) & mask;
  }
  for (let bit = i * bitWidth; i < count; i++, bit += bitWidth) {
    const p = position + (bit >>> 3);
    const word =
      bytes[p]! |
      ((bytes[p + 1] ?? 0) << 8) |
      ((bytes[p + 2] ?? 0) << 16) |
      ((bytes[p + 3] ?? 0) << 24);
    out[at + i] = (word >>> (bit & 7)) & mask;
  }
}

/** How many whole groups of 8 values (`w` bytes each) can be unpacked with every word they read in the array. */
function wholeGroups(view: DataView, position: number, w: number, count: number): number {
  // A group's last word starts at byte (7 w) >> 3 <= w - 1 of it, so it ends by byte w + 3.
  return Math.min(count >>> 3, Math.max(0, Math.floor((view.byteLength - 3 - position) / w)));
}

/**
 * `groups` groups of 8 values, unrolled over the group: its 8 offsets and shifts are loop
 * invariants, which makes this about 2.5 times as fast as one value per iteration. Only Int32Array
 * outputs come here (one-bit values into bytes go to unpackBitsInto), so V8 compiles it for one
 * array type (one over both cost ~3 ms per 1M-row file, measured with bench:map; see "Hot loops"
 * in kernels/README.md).
 */
function unpackGroups(
  view: DataView,
  position: number,
  w: number,
  groups: number,
  out: Int32Array,
  at: number,
): void {
  const mask = (1 << w) - 1;
  for (let g = 0, p = position, o = at; g < groups; g++, p += w, o += 8) {
    out[o] = view.getUint32(p, true) & mask;
    out[o + 1] = (view.getUint32(p + (w >>> 3), true) >>> (w & 7)) & mask;
    out[o + 2] = (view.getUint32(p + ((2 * w) >>> 3), true) >>> ((2 * w) & 7)) & mask;
    out[o + 3] = (view.getUint32(p + ((3 * w) >>> 3), true) >>> ((3 * w) & 7)) & mask;
    out[o + 4] = (view.getUint32(p + ((4 * w) >>> 3), true) >>> ((4 * w) & 7)) & mask;
    out[o + 5] = (view.getUint32(p + ((5 * w) >>> 3), true) >>> ((5 * w) & 7)) & mask;
    out[o + 6] = (view.getUint32(p + ((6 * w) >>> 3), true) >>> ((6 * w) & 7)) & mask;
    out[o + 7] = (view.getUint32(p + ((7 * w) >>> 3), true) >>> ((7 * w) & 7)) & mask;
  }
}

/** 25 to 32 bits per value: read each from a five-byte window in float arithmetic. */
function unpackWide(
  bytes: Uint8Array,
  position: number,
  bitWidth: number,
  count: number,
  out: Int32Array,
  at: number,
): void {
  const modulus = 2 ** bitWidth;
  for (let i = 0; i < count; i++) {
    const bit = i * bitWidth;
    const p = position + (bit >> 3);
    let window = 0;
    for (let k = 4; k >= 0; k--) window = window * 256 + (bytes[p + k] ?? 0);
    out[at + i] = Math.floor(window / 2 ** (bit & 7)) % modulus;
  }
}
