/**
 * Row validity as one byte per row, kept beside the Arrow data of a reader that decoded it so (the
 * Parquet reader's definition levels), so the kernels need not unpack the bitmap built from it;
 * and the unpacking of bitmaps into such bytes.
 */
import type { Data } from 'apache-arrow';

const attached = new WeakMap<Data, Uint8Array>();

/** Records that row `i` of `data` is valid exactly when `valid[i] !== 0`. */
export function attachValidityBytes(data: Data, valid: Uint8Array): void {
  attached.set(data, valid);
}

/** The bytes attached to `data`, if any (a slice of it is other data and has none). */
export function attachedValidityBytes(data: Data): Uint8Array | undefined {
  return attached.get(data);
}

/** `length` bits from bit `offset` of `bits` (LSB first, as Arrow and Parquet pack them), a byte each. */
export function unpackBits(bits: Uint8Array, offset: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  unpackBitsInto(bits, offset, length, out, 0);
  return out;
}

/** unpackBits into `out[at..]`: eight bytes from each byte read where `offset` starts one. */
export function unpackBitsInto(
  bits: Uint8Array,
  offset: number,
  length: number,
  out: Uint8Array,
  at: number,
): void {
  let i = 0;
  if ((offset & 7) === 0) {
    for (let p = offset >> 3, o = at; i + 8 <= length; i += 8, p++, o += 8) {
      const b = bits[p]!;
      out[o] = b & 1;
      out[o + 1] = (b >>> 1) & 1;
      out[o + 2] = (b >>> 2) & 1;
      out[o + 3] = (b >>> 3) & 1;
      out[o + 4] = (b >>> 4) & 1;
      out[o + 5] = (b >>> 5) & 1;
      out[o + 6] = (b >>> 6) & 1;
      out[o + 7] = b >>> 7;
    }
  }
  for (; i < length; i++) {
    const j = offset + i;
    out[at + i] = (bits[j >> 3]! >> (j & 7)) & 1;
  }
}
