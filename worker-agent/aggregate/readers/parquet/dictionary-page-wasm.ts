/**
 * Dictionary-encoded pages in WebAssembly (dictionary-page.c, built by build-wasm.sh): the hybrid
 * indices unpacked, checked and gathered in one call, NULL rows set to 0. The instance's memory
 * holds the last dictionary used, then each page's scratch:
 *   heap base: dictionary | page runs + 8 | validity | indices + 1 | output
 */
import type { PageRows } from './column-values.ts';
import { align16, kernel, memoryTo, type KernelExports } from './wasm-kernel.ts';

interface DictionaryPageExports extends KernelExports {
  /** 0, or -1 when the page is corrupt or an index is past the dictionary's `size` entries. */
  dictionary_page(
    data: number,
    length: number,
    values: number,
    valid: number,
    rows: number,
    dictionary: number,
    size: number,
    width: number,
    indices: number,
    out: number,
  ): number;
}

/** A dictionary of `size` entries of `width` bytes, copied into the instance when a page needs it. */
export class WasmDictionary {
  constructor(
    readonly bytes: Uint8Array,
    readonly size: number,
    readonly width: 4 | 8,
  ) {}
}

/** The dictionary now at the heap base of each instance. */
const resident = new WeakMap<KernelExports, WasmDictionary>();

/**
 * The page's values for its `page.count` rows as a view of lane `lane`'s instance's memory, valid
 * until the lane's next call: the dictionary's entries, or the indices themselves when given only
 * the size of the dictionary. `encoded` is the bit width then the runs. Null when this
 * cannot say (no WebAssembly, or a page it refuses), so that the TypeScript reader decodes the
 * page or says what is wrong with it.
 */
export function wasmDictionaryPage(
  encoded: Uint8Array,
  page: PageRows,
  dictionary: WasmDictionary | number,
  lane: number,
): Int32Array | null {
  const wasm = kernel<DictionaryPageExports>('dictionary-page.wasm', lane);
  if (!wasm) return null;
  const base = align16(wasm.__heap_base.value);
  const entries = typeof dictionary === 'number' ? null : dictionary;
  const width = entries ? entries.width : 0;
  if (entries && entries !== resident.get(wasm)) {
    new Uint8Array(memoryTo(wasm, base + entries.bytes.length)).set(entries.bytes, base);
    resident.set(wasm, entries);
  }
  const data = align16(base + (resident.get(wasm)?.bytes.length ?? 0));
  const valid = align16(data + encoded.length + 8);
  const indices = align16(valid + page.count);
  const out = align16(indices + 4 * (page.values + 1));
  const outBytes = page.count * (width || 4);
  const memory = new Uint8Array(memoryTo(wasm, out + outBytes));
  memory.set(encoded, data);
  if (page.valid) memory.set(page.valid, valid);
  const status = wasm.dictionary_page(
    data,
    encoded.length,
    page.values,
    page.valid ? valid : 0,
    page.count,
    base,
    entries ? entries.size : (dictionary as number),
    width,
    indices,
    out,
  );
  return status === 0 ? new Int32Array(wasm.memory.buffer, out, outBytes / 4) : null;
}
