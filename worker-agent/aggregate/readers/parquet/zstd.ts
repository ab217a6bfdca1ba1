/**
 * Zstandard pages, decoded by zstddec: the reference decoder (facebook/zstd) in WebAssembly, on
 * every Node. On 48 MB of DuckDB's ZSTD pages it takes ~75 ms, where fzstd (pure JavaScript) takes
 * ~320 ms and Node 24's zlib.zstdDecompressSync with a size limit ~110 ms.
 *
 * zstddec copies the page into its instance's memory and decodes it into `size` bytes there, so a
 * page that would regenerate gigabytes costs at most `size` bytes before it is refused. That memory
 * grows to the largest page a thread has read (at most MAX_PAGE_BYTES and its compressed bytes)
 * and is reused for the next.
 */
import { ZSTDDecoder } from 'zstddec';
import { ParquetFormatError } from './errors.ts';
import { zstdBound } from './zstd-frames.ts';

const decoder = new ZSTDDecoder();
/**
 * False without WebAssembly (node --jitless): ZSTD pages are then left to parquet-wasm. (zstddec
 * would load its module through fetch, whose own WebAssembly then fails where no one can catch it.)
 */
export const zstdReady =
  'WebAssembly' in globalThis &&
  (await decoder.init().then(
    () => true,
    () => false,
  ));

/**
 * `input` decompressed to exactly `size` bytes (a new array), decoded into `size` bytes at most.
 * zstddec gives no output for data it cannot decode, nor for data past that capacity, so those two
 * cannot be told apart here.
 */
export function zstdDecompress(input: Uint8Array, size: number): Uint8Array {
  // zstddec takes a capacity of 0 as "what the frame says", unbounded; and its empty output could
  // be an error. An empty page is instead frames that regenerate nothing at all.
  if (size === 0) {
    if (zstdBound(input) > 0)
      throw new ParquetFormatError('zstd data in a page that says it is empty');
    return new Uint8Array(0);
  }
  const output = decoder.decode(input, size);
  if (output.length === size) return output;
  throw new ParquetFormatError(
    output.length === 0
      ? `corrupt zstd data, or more than the ${size} bytes its page header says`
      : `a page holds ${output.length} bytes, its header says ${size}`,
  );
}
