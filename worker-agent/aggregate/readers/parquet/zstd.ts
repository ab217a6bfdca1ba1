/**
 * Zstandard pages, decoded by zstddec: the reference decoder (facebook/zstd) in WebAssembly, on
 * every Node. On 48 MB of DuckDB's ZSTD pages it takes ~75 ms, where fzstd (pure JavaScript) takes
 * ~320 ms and Node 24's zlib.zstdDecompressSync with a size limit ~110 ms.
 *
 * zstddec's `decode` returns each page as a fresh copy out of its instance's memory: a map over a
 * 1M-row ZSTD file allocated ~20 MB of pages that the garbage collector then had to sweep. So this
 * instantiates zstddec's own module (embedded in its source, base64) and calls its
 * ZSTD_decompress into memory it reuses, the page returned as a view that is valid until the next
 * call, as Snappy's is. Where that module cannot be found (another zstddec), `decode` does it.
 *
 * A page is decoded into `size` bytes at most, so one that would regenerate gigabytes costs at
 * most `size` bytes before it is refused. The instance's memory grows to the largest page a thread
 * has read (at most MAX_PAGE_BYTES and its compressed bytes) and is reused for the next.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { ZSTDDecoder } from 'zstddec';
import { ParquetFormatError } from './errors.ts';
import { zstdBound } from './zstd-frames.ts';

interface ZstdExports {
  memory: { buffer: ArrayBuffer };
  malloc(bytes: number): number;
  free(pointer: number): void;
  ZSTD_decompress(output: number, capacity: number, input: number, length: number): number;
  ZSTD_isError(code: number): number;
}

/** What this uses of the WebAssembly API (the project's ES lib declares none of it). */
interface WebAssemblyApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
}

/** zstddec's module, instantiated here; null when its source holds no module this can use. */
function ownInstance(): ZstdExports | null {
  const api = (globalThis as { WebAssembly?: WebAssemblyApi }).WebAssembly;
  if (!api) return null;
  try {
    const source = readFileSync(createRequire(import.meta.url).resolve('zstddec'), 'utf8');
    const base64 = /const wasm = "([A-Za-z0-9+/=]+)"/.exec(source)?.[1];
    if (!base64) return null;
    const module = new api.Module(Buffer.from(base64, 'base64'));
    const imports = { env: { emscripten_notify_memory_growth: () => undefined } };
    const exports = new api.Instance(module, imports).exports as ZstdExports;
    const needed = ['malloc', 'free', 'ZSTD_decompress', 'ZSTD_isError'] as const;
    return needed.every((name) => typeof exports[name] === 'function') ? exports : null;
  } catch {
    return null;
  }
}

const own = ownInstance();
const decoder = new ZSTDDecoder();
/**
 * False without WebAssembly (node --jitless): ZSTD pages are then left to parquet-wasm. (zstddec
 * would load its module through fetch, whose own WebAssembly then fails where no one can catch it.)
 */
export const zstdReady =
  own !== null ||
  ('WebAssembly' in globalThis &&
    (await decoder.init().then(
      () => true,
      () => false,
    )));

/** Which zstddec path decodes pages: its own `decode`, or its module called here. */
export const zstdPath: 'module' | 'decode' = own ? 'module' : 'decode';

/** An area of the instance's memory: where it starts (0: none), and its bytes. */
interface Area {
  at: number;
  bytes: number;
}
/** The pages' compressed input and their output, each reused, grown (freed, allocated) as needed. */
const inputArea: Area = { at: 0, bytes: 0 };
const outputArea: Area = { at: 0, bytes: 0 };

/** `area`, holding at least `bytes`; 0 when the instance cannot allocate them. */
function room(exports: ZstdExports, area: Area, bytes: number): number {
  if (area.bytes < bytes) {
    if (area.at !== 0) exports.free(area.at);
    area.at = exports.malloc(bytes);
    area.bytes = area.at === 0 ? 0 : bytes;
  }
  return area.at;
}

/**
 * `input` decompressed to exactly `size` bytes, decoded into `size` bytes at most: a view of the
 * instance's memory valid until the next call (or, on the `decode` path, a new array).
 */
export function zstdDecompress(input: Uint8Array, size: number): Uint8Array {
  // zstddec takes a capacity of 0 as "what the frame says", unbounded; and its empty output could
  // be an error. An empty page is instead frames that regenerate nothing at all.
  if (size === 0) {
    if (zstdBound(input) > 0)
      throw new ParquetFormatError('zstd data in a page that says it is empty');
    return new Uint8Array(0);
  }
  const output = own ? decodeInPlace(own, input, size) : decoder.decode(input, size);
  if (output.length === size) return output;
  throw new ParquetFormatError(
    output.length === 0
      ? `corrupt zstd data, or more than the ${size} bytes its page header says`
      : `a page holds ${output.length} bytes, its header says ${size}`,
  );
}

/** ZSTD_decompress into the reused output area; empty when zstd reports an error. */
function decodeInPlace(exports: ZstdExports, page: Uint8Array, size: number): Uint8Array {
  const from = room(exports, inputArea, page.length);
  const to = room(exports, outputArea, size);
  if (from === 0 || to === 0) throw new ParquetFormatError(`a page of ${size} bytes does not fit`);
  new Uint8Array(exports.memory.buffer).set(page, from);
  const length = exports.ZSTD_decompress(to, size, from, page.length);
  if (exports.ZSTD_isError(length)) return new Uint8Array(0);
  return new Uint8Array(exports.memory.buffer, to, length);
}
