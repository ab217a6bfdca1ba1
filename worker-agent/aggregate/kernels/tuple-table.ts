/** A hash table from tuples of per-column value codes to dense group ids, for keys of several columns. */

/** Up to this many slots the table stays at most a quarter full, then at most half. */
const SPARSE_SLOTS = 1 << 22;

export class TupleTable {
  size = 0;
  /** The codes of every group's tuple, `width` per group. */
  tuples: Int32Array;
  /** Per slot: the tuple's hash, then group id + 1 (0 = empty). */
  private slots: Int32Array = new Int32Array(128);
  private mask = 63;

  constructor(readonly width: number) {
    this.tuples = new Int32Array(16 * width);
  }

  /** `groups[k]` gets the group of the tuple (codes[0][k], codes[1][k], ...); new tuples become new groups. */
  lookup(codes: readonly Int32Array[], count: number, groups: Int32Array): void {
    for (let k = 0; k < count; k++) groups[k] = this.find(codes, k);
  }

  /** The group of tuple `k` of `codes`, created when new. */
  find(codes: readonly Int32Array[], k: number): number {
    let hash = Math.imul(codes[0]![k]! ^ 0x5bd1e995, 0x9e3779b1) ^ codes[1]![k]!;
    for (let j = 2; j < this.width; j++) hash = Math.imul(hash, 0x01000193) ^ codes[j]![k]!;
    hash = Math.imul(hash ^ (hash >>> 15), 0x2c1b3c6d);
    hash ^= hash >>> 13;
    const slots = this.slots;
    const mask = this.mask;
    let slot = hash & mask;
    for (;;) {
      const entry = slots[2 * slot + 1]!;
      if (entry === 0) return this.insert(codes, k, hash, slot);
      if (slots[2 * slot] === hash && this.matches(codes, k, entry - 1)) return entry - 1;
      slot = (slot + 1) & mask;
    }
  }

  private matches(codes: readonly Int32Array[], k: number, group: number): boolean {
    const base = group * this.width;
    for (let j = 0; j < this.width; j++) if (this.tuples[base + j] !== codes[j]![k]) return false;
    return true;
  }

  private insert(codes: readonly Int32Array[], k: number, hash: number, slot: number): number {
    const group = this.size++;
    if ((group + 1) * this.width > this.tuples.length) {
      const tuples = new Int32Array(this.tuples.length * 2);
      tuples.set(this.tuples);
      this.tuples = tuples;
    }
    for (let j = 0; j < this.width; j++) this.tuples[group * this.width + j] = codes[j]![k]!;
    this.slots[2 * slot] = hash;
    this.slots[2 * slot + 1] = group + 1;
    const capacity = this.mask + 1;
    if (this.size * (capacity < SPARSE_SLOTS ? 4 : 2) > capacity) this.rehash(capacity * 2);
    return group;
  }

  private rehash(capacity: number): void {
    const slots = new Int32Array(capacity * 2);
    const mask = capacity - 1;
    const old = this.slots;
    for (let i = 0; i < old.length; i += 2) {
      if (old[i + 1] === 0) continue;
      let slot = old[i]! & mask;
      while (slots[2 * slot + 1] !== 0) slot = (slot + 1) & mask;
      slots[2 * slot] = old[i]!;
      slots[2 * slot + 1] = old[i + 1]!;
    }
    this.slots = slots;
    this.mask = mask;
  }
}
