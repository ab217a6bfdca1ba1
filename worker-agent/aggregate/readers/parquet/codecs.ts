/** Page decompression for the codecs the reader handles (others are left to parquet-wasm). */
import zlib from 'node:zlib';
import { ParquetFormatError } from './errors.ts';
import { Codec } from './format.ts';
import { SNAPPY_SLACK, snappyDecompress } from './snappy.ts';
import { wasmSnappy } from './snappy-wasm.ts';

type Inflate = (input: Uint8Array) => Uint8Array;
/** Node ≥ 22.15 has zstd in zlib; older Nodes leave ZSTD files to parquet-wasm. */
const zstd = (zlib as unknown as { zstdDecompressSync?: Inflate }).zstdDecompressSync;

export function codecSupported(codec: number): boolean {
  return (
    codec === Codec.UNCOMPRESSED ||
    codec === Codec.SNAPPY ||
    codec === Codec.GZIP ||
    (codec === Codec.ZSTD && zstd !== undefined)
  );
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
 * `input` decompressed to exactly `size` bytes. Snappy's output is valid until the next page's:
 * WebAssembly's memory, or `buffer` where snappy.ts decodes it (without WebAssembly, or to say
 * what is wrong with a page the WebAssembly decoder refused).
 */
export function decompress(
  codec: number,
  input: Uint8Array,
  size: number,
  buffer?: PageBuffer,
): Uint8Array {
  let output: Uint8Array;
  try {
    if (codec === Codec.UNCOMPRESSED) output = input;
    else if (codec === Codec.SNAPPY)
      return wasmSnappy(input, size) ?? snappyDecompress(input, size, buffer?.take(size));
    else if (codec === Codec.GZIP) output = zlib.unzipSync(input);
    else if (codec === Codec.ZSTD && zstd) output = zstd(input);
    else throw new ParquetFormatError(`codec ${codec} is not supported`);
  } catch (error) {
    if (error instanceof ParquetFormatError) throw error;
    throw new ParquetFormatError(`a page does not decompress (${(error as Error).message})`);
  }
  if (output.length !== size) {
    throw new ParquetFormatError(`a page holds ${output.length} bytes, its header says ${size}`);
  }
  return output;
}
