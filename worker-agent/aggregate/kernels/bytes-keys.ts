/** String keys by their UTF-8 bytes, from plain or dictionary-encoded columns (hashed by value, never by index). */
import { grow, grown } from './growth.ts';
import type { Data } from 'apache-arrow';
import { stringData } from './arrow-build.ts';
import type { ColumnInfo } from './column-types.ts';
import type { BytesView, ColumnView, NumArray } from './column-view.ts';
import { hashBytes, NULL_HASH } from './hash.ts';
import type { KeyColumn } from './key-column.ts';

/** Hashes of every entry of a dictionary, kept while batches share it. */
function entryHashes(dict: BytesView): Int32Array {
  const out = new Int32Array(dict.length);
  for (let e = 0; e < dict.length; e++) {
    out[e] =
      dict.valid !== null && dict.valid[e] === 0
        ? NULL_HASH
        : hashBytes(dict.bytes, dict.offsets[e]!, dict.offsets[e + 1]!);
  }
  return out;
}

export class BytesKeys implements KeyColumn {
  private arena: Uint8Array = new Uint8Array(1024);
  private ends: Int32Array = new Int32Array(17);
  private nulls: Uint8Array = new Uint8Array(16);
  private size = 0;
  /** The bound batch: its bytes and offsets (a dictionary's for dictionary columns). */
  private bytes: Uint8Array = new Uint8Array(0);
  private offsets: Int32Array = new Int32Array(1);
  private valid: Uint8Array | null = null;
  private indices: NumArray | null = null;
  private hashSource: object | null = null;
  private hashes: Int32Array = new Int32Array(0);

  constructor(readonly column: ColumnInfo) {}

  bind(view: ColumnView): void {
    this.valid = view.valid;
    if (view.kind === 'bytes') {
      this.bytes = view.bytes;
      this.offsets = view.offsets;
      this.indices = null;
    } else if (view.kind === 'dict') {
      this.bytes = view.dict.bytes;
      this.offsets = view.dict.offsets;
      this.indices = view.indices;
      if (view.source !== this.hashSource) {
        this.hashes = entryHashes(view.dict);
        this.hashSource = view.source;
      }
    } else {
      throw new Error(`string key bound to a ${view.kind} view`);
    }
  }

  hash(rows: Int32Array, count: number, hashes: Int32Array): void {
    const { bytes, offsets, valid, indices } = this;
    const entries = this.hashes;
    for (let k = 0; k < count; k++) {
      const row = rows[k]!;
      let h: number;
      if (valid !== null && valid[row] === 0) h = NULL_HASH;
      else if (indices !== null) h = entries[indices[row]!]!;
      else h = hashBytes(bytes, offsets[row]!, offsets[row + 1]!);
      hashes[k] = h;
    }
  }

  equals(row: number, group: number): boolean {
    const isNull = this.valid !== null && this.valid[row] === 0;
    if (this.nulls[group] === 1 || isNull) return this.nulls[group] === 1 && isNull;
    const entry = this.indices !== null ? this.indices[row]! : row;
    const start = this.offsets[entry]!;
    const length = this.offsets[entry + 1]! - start;
    const at = this.ends[group]!;
    if (this.ends[group + 1]! - at !== length) return false;
    const { bytes, arena } = this;
    for (let i = 0; i < length; i++) if (bytes[start + i] !== arena[at + i]) return false;
    return true;
  }

  append(row: number): void {
    this.ends = grow(this.ends, this.size + 2);
    this.nulls = grow(this.nulls, this.size + 1);
    const at = this.ends[this.size]!;
    if (this.valid !== null && this.valid[row] === 0) {
      this.nulls[this.size] = 1;
      this.ends[this.size + 1] = at;
    } else {
      const entry = this.indices !== null ? this.indices[row]! : row;
      const start = this.offsets[entry]!;
      const end = this.offsets[entry + 1]!;
      if (at + end - start > this.arena.length) {
        const arena = new Uint8Array(grown(this.arena.length, at + end - start));
        arena.set(this.arena.subarray(0, at));
        this.arena = arena;
      }
      this.arena.set(this.bytes.subarray(start, end), at);
      this.ends[this.size + 1] = at + end - start;
    }
    this.size++;
  }

  build(groups: Int32Array | null, length: number): Data {
    let size = 0;
    for (let i = 0; i < length; i++) {
      const group = groups ? groups[i]! : i;
      size += this.ends[group + 1]! - this.ends[group]!;
    }
    const bytes = new Uint8Array(size);
    const offsets = new Int32Array(length + 1);
    const valid = new Uint8Array(length);
    let at = 0;
    for (let i = 0; i < length; i++) {
      const group = groups ? groups[i]! : i;
      const start = this.ends[group]!;
      const end = this.ends[group + 1]!;
      bytes.set(this.arena.subarray(start, end), at);
      at += end - start;
      offsets[i + 1] = at;
      valid[i] = 1 - this.nulls[group]!;
    }
    return stringData(this.column.output, offsets, bytes, length, valid);
  }
}
