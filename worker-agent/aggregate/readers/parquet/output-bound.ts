/**
 * Bounds on what a page handed to parquet-wasm may inflate to. parquet-rs reads gzip, Brotli and
 * zstd pages to their end whatever the header says, and sizes a Snappy page by the block's own
 * length: a hostile page would grow the decoder's WebAssembly memory, which never shrinks. So each
 * such page is checked here first, against its header's size (itself at most MAX_PAGE_BYTES):
 * gzip and Brotli inflated with that limit, zstd's frames walked block by block (an upper bound
 * without inflating anything), Snappy's declared length, LZ4 as Hadoop frames whose sizes add up.
 * LZ4_RAW is decompressed into a buffer of the header's size by parquet-rs, so needs nothing.
 */
import zlib from 'node:zlib';
import { checkPageSize } from './codecs.ts';
import { ParquetFormatError } from './errors.ts';
import { Codec } from './format.ts';

type Inflate = (input: Uint8Array, options?: zlib.ZlibOptions) => Uint8Array;
const zstd = (zlib as unknown as { zstdDecompressSync?: Inflate }).zstdDecompressSync;

/** Parquet's codec numbers beyond those the JavaScript reader decodes. */
const LZO = 3;
const BROTLI = 4;
const LZ4 = 5;
const LZ4_RAW = 7;

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
    else if (codec === BROTLI) zlib.brotliDecompressSync(body, limit);
    else if (codec === Codec.ZSTD) {
      if (zstd) zstd(body, limit);
      else if (zstdBound(body) > size) throw tooLarge(size);
    } else if (codec === LZ4) checkHadoopLz4(body, size);
    else if (codec === LZO) throw new ParquetFormatError('codec LZO is not supported');
    else if (codec !== Codec.UNCOMPRESSED && codec !== Codec.SNAPPY && codec !== LZ4_RAW) {
      throw new ParquetFormatError(`codec ${codec} is not supported`);
    }
  } catch (error) {
    if (error instanceof ParquetFormatError) throw error;
    if ((error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge(size);
    throw new ParquetFormatError(`a page does not decompress (${(error as Error).message})`);
  }
}

const ZSTD_MAGIC = 0xfd2fb528;
/** A zstd compressed block regenerates at most this much (Block_Maximum_Size). */
const ZSTD_BLOCK_MAX = 128 * 1024;

/**
 * The most bytes zstd frames `bytes` can decompress to: a frame's declared content size, which
 * the decoder holds it to, else what its blocks can regenerate (a raw or RLE block its Block_Size,
 * a compressed one at most the window or 128 KiB). Throws on what is not zstd.
 */
export function zstdBound(bytes: Uint8Array): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const corrupt = () => new ParquetFormatError('corrupt zstd data: a frame runs past its page');
  let p = 0;
  let bound = 0;
  while (p < bytes.length) {
    if (p + 8 > bytes.length) throw corrupt();
    const magic = view.getUint32(p, true);
    if ((magic & 0xfffffff0) === 0x184d2a50) {
      p += 8 + view.getUint32(p + 4, true);
      continue;
    }
    if (magic !== ZSTD_MAGIC) throw new ParquetFormatError('corrupt zstd data: no frame magic');
    const descriptor = bytes[p + 4]!;
    const singleSegment = (descriptor >> 5) & 1;
    const fcsBytes = [singleSegment ? 1 : 0, 2, 4, 8][descriptor >> 6]!;
    p += 5;
    let window = ZSTD_BLOCK_MAX;
    if (!singleSegment) {
      const exponent = 10 + (bytes[p]! >> 3);
      window = 2 ** exponent + (2 ** exponent / 8) * (bytes[p]! & 7);
      p += 1;
    }
    p += [0, 1, 2, 4][descriptor & 3]!;
    if (p + fcsBytes > bytes.length) throw corrupt();
    let contentSize: number | null = null;
    if (fcsBytes > 0) {
      contentSize = 0;
      for (let i = fcsBytes - 1; i >= 0; i--) contentSize = contentSize * 256 + bytes[p + i]!;
      if (fcsBytes === 2) contentSize += 256;
      if (singleSegment) window = contentSize;
    }
    p += fcsBytes;
    const blockMax = Math.min(window, ZSTD_BLOCK_MAX);
    let blocks = 0;
    for (let last = 0; !last;) {
      if (p + 3 > bytes.length) throw corrupt();
      const header = bytes[p]! | (bytes[p + 1]! << 8) | (bytes[p + 2]! << 16);
      last = header & 1;
      const type = (header >> 1) & 3;
      const size = header >>> 3;
      p += 3;
      if (type === 0) ((blocks += size), (p += size));
      else if (type === 1) ((blocks += size), (p += 1));
      else if (type === 2) ((blocks += blockMax), (p += size));
      else throw new ParquetFormatError('corrupt zstd data: a reserved block type');
      if (p > bytes.length) throw corrupt();
    }
    if ((descriptor >> 2) & 1) p += 4;
    bound += contentSize ?? blocks;
  }
  return bound;
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
  return new ParquetFormatError(
    'an LZ4 page that is not in Hadoop frames adding up to its size (other LZ4 pages are not read)',
  );
}
