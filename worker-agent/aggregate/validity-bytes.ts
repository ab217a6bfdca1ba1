/**
 * Row validity as one byte per row, kept beside the Arrow data of a reader that decoded it so (the
 * Parquet reader's definition levels), so the kernels need not unpack the bitmap built from it.
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
