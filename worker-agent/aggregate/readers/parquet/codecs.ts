/**
 * Page decompression for every codec but LZO (whose files are left to parquet-wasm): Snappy and
 * LZ4 here, gzip and Brotli in node:zlib, zstd in zstddec (WebAssembly).
 */
import zlib from 'node:zlib';
import { ParquetFormatError, ParquetUnsupportedError } from './errors.ts';
import { Codec } from './format.ts';
import { MAX_PAGE_BYTES, mib, SNAPPY_MAX_RATIO } from './limits.ts';
import { lz4Hadoop, lz4Raw } from './lz4.ts';
import { SNAPPY_SLACK, snappyDecompress, snappyLength } from './snappy.ts';
import { wasmSnappy } from './snappy-wasm.ts';
import { zstdDecompress, zstdReady } from './zstd.ts';

/** The codecs decoded here, zstd apart (it needs WebAssembly). */
const DECODED: ReadonlySet<number> = new Set([
  Codec.UNCOMPRESSED,
  Codec.SNAPPY,
  Codec.GZIP,
  Codec.BROTLI,
  Codec.LZ4,
  Codec.LZ4_RAW,
]);

export function codecSupported(codec: number): boolean {
  return DECODED.has(codec) || (codec === Codec.ZSTD && zstdReady);
}

/**
 * One buffer that pages are decompressed into in turn: a page's bytes are copied out as it is
 * decoded, so a new array per page (megabytes per row group) would only feed the collector.
 */
export class PageBuffer {
  private buffer = new Uint8Array(0);

  /** Room for `size` bytes of output; valid until the next call. */
  take(size: number): Uint8Array {
    const needed = size + SNAPPY_SLACK;
    if (this.buffer.length < needed)
      this.buffer = new Uint8Array(Math.max(needed, 2 * this.buffer.length));
    return this.buffer;
  }
}

/**
 * Throws unless a page may decompress to `size` bytes: at most MAX_PAGE_BYTES, and for Snappy what
 * the block's own header says, within what its length can hold. Checked before any output exists.
 */
export function checkPageSize(codec: number, input: Uint8Array, size: number): void {
  if (!Number.isSafeInteger(size) || size < 0) {
    throw new ParquetFormatError(`a page says it holds ${size} bytes uncompressed`);
  }
  if (size > MAX_PAGE_BYTES) {
    throw new ParquetUnsupportedError(
      `a page says it holds ${size} bytes uncompressed, over the reader's limit of ${mib(MAX_PAGE_BYTES)}`,
    );
  }
  if (codec !== Codec.SNAPPY) return;
  const length = snappyLength(input);
  if (length !== size) {
    throw new ParquetFormatError(
      `corrupt Snappy data: it says it holds ${length} bytes, the page says ${size}`,
    );
  }
  if (length > Math.ceil(input.length * SNAPPY_MAX_RATIO)) {
    throw new ParquetFormatError(
      `corrupt Snappy data: ${input.length} bytes cannot hold the ${length} bytes they say they do`,
    );
  }
}

/**
 * `input` decompressed to exactly `size` bytes (itself checked first): no codec writes more than
 * that (gzip and Brotli stop at `maxOutputLength`, zstd and LZ4 decode into `size` bytes), so a
 * page that inflates further (a 522 KB gzip page to ~1 GiB) costs at most `size` bytes before it
 * is refused. Snappy's and LZ4's output is valid until the next page's: WebAssembly's memory, or
 * `buffer` where snappy.ts (without WebAssembly, or to say what is wrong with a page the
 * WebAssembly decoder refused) and lz4.ts decode it.
 */
export function decompress(
  codec: number,
  input: Uint8Array,
  size: number,
  buffer?: PageBuffer,
): Uint8Array {
  checkPageSize(codec, input, size);
  // zlib refuses a limit of 0; one byte more still tells "too long" from "exactly right".
  const limit = { maxOutputLength: size + 1 };
  let output: Uint8Array;
  try {
    if (codec === Codec.UNCOMPRESSED) output = input;
    else if (codec === Codec.SNAPPY)
      return wasmSnappy(input, size) ?? snappyDecompress(input, size, buffer?.take(size));
    else if (codec === Codec.GZIP) output = zlib.unzipSync(input, limit);
    else if (codec === Codec.BROTLI) output = zlib.brotliDecompressSync(input, limit);
    else if (codec === Codec.ZSTD && zstdReady) output = zstdDecompress(input, size);
    else if (codec === Codec.LZ4 || codec === Codec.LZ4_RAW) {
      const room = (buffer?.take(size) ?? new Uint8Array(size)).subarray(0, size);
      output = room.subarray(0, (codec === Codec.LZ4 ? lz4Hadoop : lz4Raw)(input, room));
    } else throw new ParquetUnsupportedError(`codec ${codec} is not supported`);
  } catch (error) {
    if (error instanceof ParquetFormatError) throw error;
    if ((error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new ParquetFormatError(
        `a page decompresses to more than the ${size} bytes its header says (refused at ${size + 1})`,
      );
    }
    throw new ParquetFormatError(`a page does not decompress (${(error as Error).message})`);
  }
  if (output.length !== size) {
    throw new ParquetFormatError(`a page holds ${output.length} bytes, its header says ${size}`);
  }
  return output;
}
