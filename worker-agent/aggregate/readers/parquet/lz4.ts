/**
 * LZ4 pages. LZ4_RAW is one raw LZ4 block. The deprecated LZ4 codec is Hadoop's framing (each
 * frame its uncompressed and compressed sizes, big endian, then a raw block), but some writers put
 * one raw block under it: as Arrow C++ does, frames are tried first and the page is read as one
 * block when they do not parse. Decoded here: the npm decoders of raw blocks either read stale
 * memory on a zero match offset (lz4-wasm) or check no offset at all (lz4js), so corrupt pages
 * would give silently wrong bytes; this one refuses them, and never writes past `output`.
 */
import { ParquetFormatError } from './errors.ts';

const MIN_MATCH = 4;
/** Runs longer than this are copied with set/copyWithin; shorter ones byte by byte, which is faster. */
const BULK = 16;

const corrupt = (what: string) => new ParquetFormatError(`corrupt LZ4 data: ${what}`);
/** (Said of the page: a Hadoop frame's errors are not reported, its page is read as one block.) */
const tooLong = (size: number) =>
  new ParquetFormatError(`a page decompresses to more than the ${size} bytes its header says`);

/**
 * Decodes the raw block `input` into `output` from `start`, writing before `end` only; returns
 * where it stopped. Throws when the block is malformed or does not fit.
 */
function decodeBlock(input: Uint8Array, output: Uint8Array, start: number, end: number): number {
  const length = input.length;
  let i = 0;
  let o = start;
  for (;;) {
    if (i >= length) throw corrupt('a block ends inside a sequence');
    const token = input[i++]!;
    let literals = token >>> 4;
    if (literals === 15) {
      for (let byte = 255; byte === 255; literals += byte) {
        if (i >= length) throw corrupt('a block ends inside a length');
        byte = input[i++]!;
      }
    }
    if (literals > length - i) throw corrupt('a literal run goes past the end of its block');
    if (literals > end - o) throw tooLong(end - start);
    if (literals > BULK) {
      output.set(input.subarray(i, i + literals), o);
      i += literals;
      o += literals;
    } else for (const stop = i + literals; i < stop;) output[o++] = input[i++]!;
    if (i === length) return o;
    if (length - i < 2) throw corrupt('a block ends inside a match offset');
    const offset = input[i]! | (input[i + 1]! << 8);
    i += 2;
    if (offset === 0 || offset > o - start) {
      throw corrupt(`a match refers to ${offset} bytes back, ${o - start} are decoded`);
    }
    let match = token & 15;
    if (match === 15) {
      for (let byte = 255; byte === 255; match += byte) {
        if (i >= length) throw corrupt('a block ends inside a length');
        byte = input[i++]!;
      }
    }
    match += MIN_MATCH;
    if (match > end - o) throw tooLong(end - start);
    let from = o - offset;
    if (match > BULK && offset >= match) {
      output.copyWithin(o, from, from + match);
      o += match;
    } else for (const stop = o + match; o < stop;) output[o++] = output[from++]!;
  }
}

/** LZ4_RAW: the block `input` decoded into `output`, which it must fill; returns the bytes written. */
export function lz4Raw(input: Uint8Array, output: Uint8Array): number {
  return decodeBlock(input, output, 0, output.length);
}

/** LZ4: Hadoop frames filling `output` exactly, else one raw block; returns the bytes written. */
export function lz4Hadoop(input: Uint8Array, output: Uint8Array): number {
  return hadoopFrames(input, output) ? output.length : lz4Raw(input, output);
}

/** Whether `input` is Hadoop frames whose blocks decode to their sizes, adding up to `output`'s. */
function hadoopFrames(input: Uint8Array, output: Uint8Array): boolean {
  const view = new DataView(input.buffer, input.byteOffset, input.byteLength);
  let i = 0;
  let o = 0;
  while (input.length - i >= 8) {
    const size = view.getUint32(i, false);
    const length = view.getUint32(i + 4, false);
    i += 8;
    if (length > input.length - i || size > output.length - o) return false;
    try {
      if (decodeBlock(input.subarray(i, i + length), output, o, o + size) !== o + size)
        return false;
    } catch {
      return false;
    }
    i += length;
    o += size;
  }
  return i === input.length && o === output.length;
}
