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
/** An instance whose memory grew past this is dropped by releaseKernels (its module is kept)... */
const KEEP_MEMORY_BYTES = 16 * 1024 * 1024;
/** ...and so are those past this much in all (a reader has an instance per column, its lanes). */
const KEEP_TOTAL_BYTES = 64 * 1024 * 1024;
const modules = new Map<string, object | null>();
const instances = new Map<string, KernelExports>();

/**
 * An instance of `file` (beside this module), or null without WebAssembly: lane `lane`'s, so that
 * what one lane leaves in its memory outlives calls made in another.
 */
export function kernel<T extends KernelExports>(file: string, lane = 0): T | null {
  const name = `${file}#${lane}`;
  const instance = instances.get(name);
  if (instance) return instance as T;
  const api = (globalThis as { WebAssembly?: WebAssemblyApi }).WebAssembly;
  if (!modules.has(file)) {
    let module: object | null = null;
    try {
      const bytes = readFileSync(new URL(`./${file}`, import.meta.url));
      module = api ? new api.Module(bytes) : null;
    } catch {
      module = null;
    }
    modules.set(file, module);
  }
  const module = modules.get(file);
  if (!module || !api) return null;
  try {
    const exports = new api.Instance(module).exports as KernelExports;
    instances.set(name, exports);
    return exports as T;
  } catch {
    modules.set(file, null);
    return null;
  }
}

/**
 * Drops the instances whose memory grew past KEEP_MEMORY_BYTES, and those beyond KEEP_TOTAL_BYTES
 * in all (a WebAssembly memory never shrinks): the next call makes a fresh one from the compiled
 * module, in microseconds, so a thread that decoded one large or hostile page, or many wide
 * columns, does not hold that memory for every task after it.
 */
export function releaseKernels(): void {
  let kept = 0;
  for (const [name, instance] of instances) {
    const bytes = instance.memory.buffer.byteLength;
    if (bytes > KEEP_MEMORY_BYTES || kept + bytes > KEEP_TOTAL_BYTES) instances.delete(name);
    else kept += bytes;
  }
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
