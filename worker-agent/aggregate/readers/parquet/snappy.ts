/** Snappy block decompression (the raw format Parquet pages use, without framing). */
import { ParquetFormatError } from './errors.ts';

/**
 * Bytes of room past the output's end: short literals and copies move whole 4-byte words and may
 * write up to seven bytes past their end, which the next elements overwrite.
 */
export const SNAPPY_SLACK = 8;

function corrupt(reason: string): ParquetFormatError {
  return new ParquetFormatError(`corrupt Snappy data: ${reason}`);
}

/** The length the block says it decompresses to (its leading varint). */
export function snappyLength(input: Uint8Array): number {
  return declaredLength(input).length;
}

function declaredLength(input: Uint8Array): { length: number; start: number } {
  let length = 0;
  let scale = 1;
  for (let i = 0; i < 5 && i < input.length; i++) {
    const b = input[i]!;
    length += (b & 0x7f) * scale;
    if (b < 0x80) return { length, start: i + 1 };
    scale *= 128;
  }
  throw corrupt('bad length header');
}

/**
 * Decompresses `input` into exactly `expected` bytes (the page header's size), written to the
 * start of `into` when it has room for them and SNAPPY_SLACK more, else to a new array.
 */
export function snappyDecompress(
  input: Uint8Array,
  expected: number,
  into?: Uint8Array,
): Uint8Array {
  const { length, start } = declaredLength(input);
  if (length !== expected) throw corrupt(`it holds ${length} bytes, the page says ${expected}`);
  const out =
    into && into.byteOffset === 0 && into.length >= length + SNAPPY_SLACK
      ? into
      : new Uint8Array(length + SNAPPY_SLACK);
  const outView = new DataView(out.buffer);
  const inView = new DataView(input.buffer, input.byteOffset, input.byteLength);
  let ip = start;
  let op = 0;
  const end = input.length;
  while (ip < end) {
    const tag = input[ip++]!;
    const kind = tag & 3;
    if (kind === 0) {
      let size = tag >>> 2;
      // A literal of up to 4 bytes is one word, moved without a loop (as short copies are, below).
      if (size < 4 && ip + 4 <= end && op + size < length) {
        outView.setInt32(op, inView.getInt32(ip, true), true);
        ip += size + 1;
        op += size + 1;
        continue;
      }
      if (size >= 60) {
        const bytes = size - 59;
        if (ip + bytes > end) throw corrupt('literal length past the end');
        // Kept in int32 arithmetic (a literal never nears 2^31 bytes; a negative one is corrupt).
        size = 0;
        for (let i = 0; i < bytes; i++) size |= input[ip + i]! << (8 * i);
        if (size < 0) throw corrupt('literal length out of range');
        ip += bytes;
      }
      size += 1;
      if (ip + size > end || op + size > length) throw corrupt('literal past the end');
      if (size > 32) out.set(input.subarray(ip, ip + size), op);
      else if (ip + size + 4 <= end) {
        for (let i = 0; i < size; i += 4)
          outView.setInt32(op + i, inView.getInt32(ip + i, true), true);
      } else for (let i = 0; i < size; i++) out[op + i] = input[ip + i]!;
      ip += size;
      op += size;
      continue;
    }
    let size: number;
    let offset: number;
    if (kind === 1) {
      if (ip >= end) throw corrupt('copy past the end');
      size = ((tag >>> 2) & 7) + 4;
      offset = ((tag >>> 5) << 8) | input[ip++]!;
    } else if (kind === 2) {
      if (ip + 2 > end) throw corrupt('copy past the end');
      size = (tag >>> 2) + 1;
      offset = input[ip]! | (input[ip + 1]! << 8);
      ip += 2;
    } else {
      if (ip + 4 > end) throw corrupt('copy past the end');
      size = (tag >>> 2) + 1;
      offset = input[ip]! | (input[ip + 1]! << 8) | (input[ip + 2]! << 16) | (input[ip + 3]! << 24);
      ip += 4;
    }
    if (offset <= 0 || offset > op) throw corrupt('copy from before the start');
    if (op + size > length) throw corrupt('copy past the end of the output');
    const from = op - offset;
    if (offset >= 4 && size <= 8) {
      // Two words, whatever the size: a loop's varying trip count costs a branch miss a copy in
      // data such as doubles that share their high bytes (a literal of 1–2 bytes, then a copy of
      // 6–7), which made the loop ~25% slower. As in the loop, each read ends before the bytes
      // this copy has yet to write.
      outView.setInt32(op, outView.getInt32(from, true), true);
      outView.setInt32(op + 4, outView.getInt32(from + 4, true), true);
    } else if (offset >= 4) {
      // Four bytes at a time: each read ends before the bytes this copy has yet to write.
      for (let i = 0; i < size; i += 4)
        outView.setInt32(op + i, outView.getInt32(from + i, true), true);
    } else for (let i = 0; i < size; i++) out[op + i] = out[from + i]!;
    op += size;
  }
  if (op !== length) throw corrupt(`it ended after ${op} of ${length} bytes`);
  return out.subarray(0, length);
}
