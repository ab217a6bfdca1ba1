/** Codes (dense ids) for one key column's distinct values: fast paths for dictionaries and small integers, else hash + probe. */
import type { ColumnInfo } from './column-types.ts';
import {
  nullView,
  type ColumnView,
  type DictView,
  type NumArray,
  type NumberView,
} from './column-view.ts';
import { DirectIndex } from './direct-index.ts';
import { GroupTable, keyColumnFor } from './group-table.ts';
import { identity } from './rows.ts';

const ONE_ROW = new Int32Array(1);
const ONE_HASH = new Int32Array(1);
const ONE_GROUP = new Int32Array(1);

export class ColumnCodes {
  private readonly table: GroupTable;
  private hashes: Int32Array = new Int32Array(0);
  /** Dictionary fast path: the code of each entry of the current dictionary (-1 = not seen yet). */
  private dictSource: object | null = null;
  private dictCodes: Int32Array = new Int32Array(0);
  private nullCode = -1;

  /** Direct-mapped fast path of integer values (ints up to 32 bits, Date32, booleans). */
  private direct: DirectIndex | null;
  private pending: Int32Array = new Int32Array(0);

  constructor(column: ColumnInfo) {
    this.table = new GroupTable(keyColumnFor(column));
    const integers =
      column.physical === 'number' && ['int', 'date', 'bool', 'time'].includes(column.family);
    this.direct = integers ? new DirectIndex() : null;
  }

  /** Distinct values (codes) so far. */
  get size(): number {
    return this.table.size;
  }

  /** The hash of the value of `code` (as partitionOf hashes it). */
  hashOf(code: number): number {
    return this.table.groupHashes[code]!;
  }

  /** `codes[k]` gets the code of row `rows[k]`'s value (row k when `rows` is null). */
  assign(view: ColumnView, rows: Int32Array | null, count: number, codes: Int32Array): void {
    const table = this.table;
    if (view.kind === 'dict') {
      this.assignDictionary(table, view, rows, count, codes);
      return;
    }
    if (
      view.kind === 'number' &&
      this.direct !== null &&
      this.assignDirect(table, view, rows, count, codes)
    )
      return;
    if (this.hashes.length < count) this.hashes = new Int32Array(count);
    const selected = rows ?? identity(count);
    const key = table.key;
    key.bind(view);
    key.hash(selected, count, this.hashes);
    table.lookup(selected, count, this.hashes, codes);
  }

  /** The code of one row of `view`, found or created through the table. */
  private lookupOne(table: GroupTable, view: ColumnView, row: number): number {
    const key = table.key;
    ONE_ROW[0] = row;
    key.bind(view);
    key.hash(ONE_ROW, 1, ONE_HASH);
    table.lookup(ONE_ROW, 1, ONE_HASH, ONE_GROUP);
    return ONE_GROUP[0]!;
  }

  /** The code of NULL, found or created once. */
  private nullKeyCode(table: GroupTable): number {
    if (this.nullCode < 0)
      this.nullCode = this.lookupOne(table, nullView(table.key.column.physical, 1), 0);
    return this.nullCode;
  }

  /** Integer values in a small range: a direct-mapped array instead of hashing. */
  private assignDirect(
    table: GroupTable,
    view: NumberView,
    rows: Int32Array | null,
    count: number,
    codes: Int32Array,
  ): boolean {
    const direct = this.direct!;
    const { values, valid } = view;
    if (valid === null) return this.assignDirectValid(table, direct, view, rows, count, codes);
    const selected = rows ?? identity(count);
    if (this.pending.length < count) this.pending = new Int32Array(count);
    const pending = this.pending;
    let waiting = 0;
    let map = direct.codes;
    let base = direct.base;
    for (let k = 0; k < count; k++) {
      const row = selected[k]!;
      if (valid !== null && valid[row] === 0) {
        codes[k] = this.nullKeyCode(table);
        continue;
      }
      const slot = values[row]! - base;
      if (slot < 0 || slot >= map.length) {
        pending[waiting++] = k;
        continue;
      }
      let code = map[slot]!;
      if (code < 0) code = map[slot] = this.lookupOne(table, view, row);
      codes[k] = code;
    }
    if (waiting === 0) return true;
    // Values outside the window: widen it to them if it may, else look them up one by one.
    let min = Infinity;
    let max = -Infinity;
    for (let p = 0; p < waiting; p++) {
      const value = values[selected[pending[p]!]!]!;
      if (value < min) min = value;
      if (value > max) max = value;
    }
    const widened = direct.cover(min, max);
    if (!widened) this.direct = null;
    map = direct.codes;
    base = direct.base;
    for (let p = 0; p < waiting; p++) {
      const k = pending[p]!;
      const row = selected[k]!;
      if (!widened) {
        codes[k] = this.lookupOne(table, view, row);
        continue;
      }
      const slot = values[row]! - base;
      let code = map[slot]!;
      if (code < 0) code = map[slot] = this.lookupOne(table, view, row);
      codes[k] = code;
    }
    return true;
  }

  /** `assignDirect` over a batch without NULLs, every row or those `rows` selects. */
  private assignDirectValid(
    table: GroupTable,
    direct: DirectIndex,
    view: NumberView,
    rows: Int32Array | null,
    count: number,
    codes: Int32Array,
  ): boolean {
    const values = view.values;
    let min = Infinity;
    let max = -Infinity;
    for (let k = 0; k < count; k++) {
      const value = values[rows === null ? k : rows[k]!]!;
      min = value < min ? value : min;
      max = value > max ? value : max;
    }
    if (count > 0 && !direct.cover(min, max)) {
      this.direct = null; // too wide a range: hash from now on
      return false;
    }
    const map = direct.codes;
    const base = direct.base;
    // Four rows an iteration (see "Hot loops" in README.md); first sightings one at a time.
    let k = 0;
    for (; k + 3 < count; k += 4) {
      const c0 = map[values[rows === null ? k : rows[k]!]! - base]!;
      const c1 = map[values[rows === null ? k + 1 : rows[k + 1]!]! - base]!;
      const c2 = map[values[rows === null ? k + 2 : rows[k + 2]!]! - base]!;
      const c3 = map[values[rows === null ? k + 3 : rows[k + 3]!]! - base]!;
      if ((c0 | c1 | c2 | c3) >= 0) {
        codes[k] = c0;
        codes[k + 1] = c1;
        codes[k + 2] = c2;
        codes[k + 3] = c3;
      } else for (let j = k; j < k + 4; j++) codes[j] = this.directCode(table, view, rows, j);
    }
    for (; k < count; k++) codes[k] = this.directCode(table, view, rows, k);
    return true;
  }

  /** The code of row `rows[k]` (row k when `rows` is null), whose value the direct map covers. */
  private directCode(table: GroupTable, view: NumberView, rows: Int32Array | null, k: number) {
    const { codes: map, base } = this.direct!;
    const row = rows === null ? k : rows[k]!;
    const slot = view.values[row]! - base;
    const code = map[slot]!;
    return code >= 0 ? code : (map[slot] = this.lookupOne(table, view, row));
  }

  /**
   * Dictionary-encoded strings: each entry is looked up once, then rows map entry to code. The
   * map has one slot more than the dictionary, for the code of NULL.
   */
  private assignDictionary(
    table: GroupTable,
    view: DictView,
    rows: Int32Array | null,
    count: number,
    codes: Int32Array,
  ): void {
    if (view.source !== this.dictSource) {
      this.dictCodes = new Int32Array(view.dict.length + 1).fill(-1);
      this.dictSource = view.source;
    }
    const map = this.dictCodes;
    const nullSlot = view.dict.length;
    const { indices, valid } = view;
    // Four rows an iteration (see "Hot loops" in README.md), selected or not; first sightings
    // one at a time.
    let k = 0;
    for (; k + 3 < count; k += 4) {
      const c0 = map[dictSlot(indices, valid, nullSlot, rows === null ? k : rows[k]!)]!;
      const c1 = map[dictSlot(indices, valid, nullSlot, rows === null ? k + 1 : rows[k + 1]!)]!;
      const c2 = map[dictSlot(indices, valid, nullSlot, rows === null ? k + 2 : rows[k + 2]!)]!;
      const c3 = map[dictSlot(indices, valid, nullSlot, rows === null ? k + 3 : rows[k + 3]!)]!;
      if ((c0 | c1 | c2 | c3) >= 0) {
        codes[k] = c0;
        codes[k + 1] = c1;
        codes[k + 2] = c2;
        codes[k + 3] = c3;
      } else for (let j = k; j < k + 4; j++) codes[j] = this.dictCodeOf(table, view, rows, j);
    }
    for (; k < count; k++) codes[k] = this.dictCodeOf(table, view, rows, k);
  }

  /**
   * The code of row `rows[k]` (row k when `rows` is null) of a dictionary column, its entry (or
   * NULL) looked up on its first sighting.
   */
  private dictCodeOf(table: GroupTable, view: DictView, rows: Int32Array | null, k: number) {
    const nullSlot = view.dict.length;
    const slot = dictSlot(view.indices, view.valid, nullSlot, rows === null ? k : rows[k]!);
    const map = this.dictCodes;
    if (map[slot]! >= 0) return map[slot]!;
    return (map[slot] =
      slot === nullSlot ? this.nullKeyCode(table) : this.lookupOne(table, view.dict, slot));
  }

  /** The values of `codes` (all, in order, when null) as data of the column's result type. */
  build(codes: Int32Array | null, length: number) {
    return this.table.key.build(codes, length);
  }
}

/**
 * Row `row`'s slot in a dictionary's code map: its index, or `nullSlot` when it is NULL
 * (branch-free). A module function, not a closure: V8 inlines it into the hot loop (see "Hot
 * loops" in README.md).
 */
function dictSlot(
  indices: NumArray,
  valid: Uint8Array | null,
  nullSlot: number,
  row: number,
): number {
  if (valid === null) return indices[row]!;
  const v = valid[row]!;
  return (indices[row]! & -v) | (nullSlot & (v - 1));
}
