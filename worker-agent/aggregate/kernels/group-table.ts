/** An open-addressing hash table from one column's values to dense ids (0, 1, 2, ... in first-seen order). */
import type { ColumnInfo } from './column-types.ts';
import { BytesKeys } from './bytes-keys.ts';
import type { KeyColumn } from './key-column.ts';
import { NumberKeys } from './number-keys.ts';
import { WideKeys } from './wide-keys.ts';

/** Up to this many slots the table stays at most a quarter full (short probes), then at most half. */
const SPARSE_SLOTS = 1 << 22;

export function keyColumnFor(column: ColumnInfo): KeyColumn {
  switch (column.physical) {
    case 'number':
      return new NumberKeys(column);
    case 'wide':
      return new WideKeys(column);
    case 'bytes':
    case 'dict':
      return new BytesKeys(column);
  }
}

export class GroupTable {
  /** Groups so far. */
  size = 0;
  /** The key hash of every group. */
  groupHashes: Int32Array = new Int32Array(16);
  /** Per slot: the key hash, then group id + 1 (0 = empty slot); the slot count is a power of two. */
  private slots: Int32Array = new Int32Array(128);
  private mask = 63;

  constructor(readonly key: KeyColumn) {}

  /**
   * `groups[k]` gets the group of row `rows[k]` of the bound batch, whose key hash is `hashes[k]`;
   * rows with new keys become new groups.
   */
  lookup(rows: Int32Array, count: number, hashes: Int32Array, groups: Int32Array): void {
    const key = this.key;
    let slots = this.slots;
    let mask = this.mask;
    for (let k = 0; k < count; k++) {
      const row = rows[k]!;
      const hash = hashes[k]!;
      let slot = hash & mask;
      let group: number;
      for (;;) {
        const entry = slots[2 * slot + 1]!;
        if (entry === 0) {
          group = this.insert(row, hash, slot);
          slots = this.slots;
          mask = this.mask;
          break;
        }
        group = entry - 1;
        if (slots[2 * slot] === hash && key.equals(row, group)) break;
        slot = (slot + 1) & mask;
      }
      groups[k] = group;
    }
  }

  private insert(row: number, hash: number, slot: number): number {
    const group = this.size++;
    this.key.append(row);
    if (group === this.groupHashes.length) {
      const hashes = new Int32Array(group * 2);
      hashes.set(this.groupHashes);
      this.groupHashes = hashes;
    }
    this.groupHashes[group] = hash;
    this.slots[2 * slot] = hash;
    this.slots[2 * slot + 1] = group + 1;
    const capacity = this.mask + 1;
    if (this.size * (capacity < SPARSE_SLOTS ? 4 : 2) > capacity) this.rehash(capacity * 2);
    return group;
  }

  private rehash(capacity: number): void {
    const slots = new Int32Array(capacity * 2);
    const mask = capacity - 1;
    for (let group = 0; group < this.size; group++) {
      const hash = this.groupHashes[group]!;
      let slot = hash & mask;
      while (slots[2 * slot + 1] !== 0) slot = (slot + 1) & mask;
      slots[2 * slot] = hash;
      slots[2 * slot + 1] = group + 1;
    }
    this.slots = slots;
    this.mask = mask;
  }
}
