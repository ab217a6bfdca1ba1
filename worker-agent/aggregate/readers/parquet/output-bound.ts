/**
 * Bounds on what a page handed to parquet-wasm may inflate to. parquet-rs reads gzip, Brotli and
 * zstd pages to their end whatever the header says, and sizes a Snappy page by the block's own
 * length: a hostile page would grow the decoder's WebAssembly memory, which never shrinks. So each
 * such page is checked here first, against its header's size (itself at most MAX_PAGE_BYTES):
 * gzip and Brotli inflated with that limit, zstd decoded into that many bytes (without WebAssembly,
 * its frames walked block by block for an upper bound), Snappy's declared length, LZ4 as Hadoop frames whose sizes add up.
 * LZ4_RAW is decompressed into a buffer of the header's size by parquet-rs, so needs nothing.
 */
import zlib from 'node:zlib';
import { checkPageSize } from './codecs.ts';
import { ParquetFormatError, ParquetUnsupportedError } from './errors.ts';
import { Codec } from './format.ts';
import { zstdDecompress, zstdReady } from './zstd.ts';
import { zstdBound } from './zstd-frames.ts';

function tooLarge(size: number): ParquetFormatError {
  return new ParquetFormatError(
    `a page decompresses to more than the ${size} bytes its header says`,
  );
}

/** Throws unless `body`, compressed with `codec`, decompresses to at most `size` bytes. */
export function checkPageOutput(codec: number, body: Uint8Array, size: number): void {
  checkPageSize(codec, body, size);
  const limit = { maxOutputLength: size + 1 };
  try {
    if (codec === Codec.GZIP) zlib.unzipSync(body, limit);
    else if (codec === Codec.BROTLI) zlib.brotliDecompressSync(body, limit);
    else if (codec === Codec.ZSTD) {
      // Frames without a content size bound nothing short of decoding them, into `size` bytes.
      if (zstdReady) zstdDecompress(body, size);
      else if (zstdBound(body) > size) throw tooLarge(size);
    } else if (codec === Codec.LZ4) checkHadoopLz4(body, size);
    else if (codec === Codec.LZO) throw new ParquetUnsupportedError('codec LZO is not supported');
    else if (codec !== Codec.UNCOMPRESSED && codec !== Codec.SNAPPY && codec !== Codec.LZ4_RAW) {
      throw new ParquetUnsupportedError(`codec ${codec} is not supported`);
    }
  } catch (error) {
    if (error instanceof ParquetFormatError) throw error;
    if ((error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge(size);
    throw new ParquetFormatError(`a page does not decompress (${(error as Error).message})`);
  }
}

/**
 * parquet-rs reads an LZ4 page as Hadoop frames (each an uncompressed and a compressed size, big
 * endian, then the block) into a buffer of the page's size, and falls back to LZ4's own frame
 * format, which it reads to the end: only pages whose Hadoop frames fill exactly `size` pass.
 */
function checkHadoopLz4(body: Uint8Array, size: number): void {
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  let p = 0;
  let total = 0;
  while (p < body.length) {
    if (p + 8 > body.length) throw hadoopOnly();
    total += view.getUint32(p, false);
    p += 8 + view.getUint32(p + 4, false);
  }
  if (p !== body.length || total !== size) throw hadoopOnly();
}

function hadoopOnly(): ParquetFormatError {
  return new ParquetUnsupportedError(
    'LZ4 pages not in Hadoop frames are not supported in columns only parquet-wasm reads',
  );
}
