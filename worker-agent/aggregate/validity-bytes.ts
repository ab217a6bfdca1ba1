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
  for (let i = 0; i < length; i++) {
    const j = offset + i;
    out[i] = (bits[j >> 3]! >> (j & 7)) & 1;
  }
  return out;
}
