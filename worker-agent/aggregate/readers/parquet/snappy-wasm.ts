/**
 * Snappy in WebAssembly: snappy.c, built by build-wasm.sh and committed as snappy.wasm. Twice as
 * fast as snappy.ts on Parquet pages (a 1M-row file's region, price and quantity pages: 4.6 ms
 * against 9.4), copying each page in included.
 */
import { kernel, memoryTo, type KernelExports } from './wasm-kernel.ts';

interface SnappyExports extends KernelExports {
  /** Decompresses into `output` (`capacity` bytes, 16 of them slack); the length, or -1. */
  snappy_decompress(input: number, length: number, output: number, capacity: number): number;
}

/** Bytes past the output that the decoder's whole-word copies may write. */
const SLACK = 16;

/**
 * `input` decompressed to exactly `size` bytes, as a view of the instance's memory that is valid
 * until the next call; null when this cannot say (no WebAssembly, or data that is not `size`
 * bytes of Snappy), so that snappy.ts decodes it or says what is wrong with it.
 */
export function wasmSnappy(input: Uint8Array, size: number): Uint8Array | null {
  const wasm = kernel<SnappyExports>('snappy.wasm');
  if (!wasm) return null;
  const at = wasm.__heap_base.value;
  const output = at + ((input.length + 7) & ~7);
  const buffer = memoryTo(wasm, output + size + SLACK);
  new Uint8Array(buffer).set(input, at);
  const length = wasm.snappy_decompress(at, input.length, output, size + SLACK);
  return length === size ? new Uint8Array(wasm.memory.buffer, output, size) : null;
}
