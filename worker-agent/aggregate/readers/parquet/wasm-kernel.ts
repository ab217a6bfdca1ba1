/**
 * The committed WebAssembly kernels (C built by build-wasm.sh), each instantiated once per thread
 * on first use. Without WebAssembly (node --jitless, say) there is none, and the TypeScript code
 * they speed up does the work.
 */
import { readFileSync } from 'node:fs';

/** What this uses of the WebAssembly API (the project's ES lib declares none of it). */
interface WebAssemblyApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: unknown };
}

export interface KernelExports {
  memory: { buffer: ArrayBuffer; grow(pages: number): number };
  /** Where the kernel's own data ends: memory from here on is the caller's. */
  __heap_base: { value: number };
}

const PAGE_BYTES = 65_536;
const loaded = new Map<string, KernelExports | null>();

/** The instance of `file` (beside this module), or null without WebAssembly. */
export function kernel<T extends KernelExports>(file: string): T | null {
  if (!loaded.has(file)) {
    const api = (globalThis as { WebAssembly?: WebAssemblyApi }).WebAssembly;
    let exports: KernelExports | null = null;
    try {
      const bytes = readFileSync(new URL(`./${file}`, import.meta.url));
      exports = api ? (new api.Instance(new api.Module(bytes)).exports as KernelExports) : null;
    } catch {
      exports = null;
    }
    loaded.set(file, exports);
  }
  return loaded.get(file) as T | null;
}

/** The kernel's memory, grown to at least `end` bytes (growing replaces the buffer). */
export function memoryTo(wasm: KernelExports, end: number): ArrayBuffer {
  const { memory } = wasm;
  const needed = end - memory.buffer.byteLength;
  if (needed > 0) memory.grow(Math.ceil(needed / PAGE_BYTES));
  return memory.buffer;
}

/** `at` rounded up to a multiple of 16. */
export function align16(at: number): number {
  return (at + 15) & ~15;
}
