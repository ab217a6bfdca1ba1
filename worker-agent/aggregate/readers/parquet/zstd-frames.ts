/** The frames of zstd data walked without decoding them: what they can regenerate at most. */
import { ParquetFormatError } from './errors.ts';

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
