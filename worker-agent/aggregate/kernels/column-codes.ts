/** Codes (dense ids) for one key column's distinct values: fast paths for dictionaries and small integers, else hash + probe. */
import type { ColumnInfo } from './column-types.ts';
import { nullView, type ColumnView, type DictView, type NumberView } from './column-view.ts';
import { DirectIndex } from './direct-index.ts';
import { GroupTable, keyColumnFor } from './group-table.ts';
import { identity } from './rows.ts';

const ONE_ROW = new Int32Array(1);
const ONE_HASH = new Int32Array(1);
const ONE_GROUP = new Int32Array(1);

export class ColumnCodes {
  private readonly table: GroupTable;
  private hashes: Int32Array = new Int32Array(0);
  /** Dictionary fast path: the group of each entry of the current dictionary (-1 = not seen yet). */
  private dictSource: object | null = null;
  private dictGroups: Int32Array = new Int32Array(0);
  private nullGroup = -1;

  /** Direct-mapped fast path of one integer-valued key (ints up to 32 bits, Date32, booleans). */
  private readonly direct: DirectIndex | null;

  constructor(column: ColumnInfo) {
    this.table = new GroupTable([keyColumnFor(column)]);
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
    const key = table.keys[0]!;
    key.bind(view);
    key.hash(selected, count, this.hashes, true);
    table.lookup(selected, count, this.hashes, codes);
  }

  /** The group of one row of `view` (bound to the key column), found or created through the table. */
  private lookupOne(table: GroupTable, view: ColumnView, row: number): number {
    const key = table.keys[0]!;
    ONE_ROW[0] = row;
    key.bind(view);
    key.hash(ONE_ROW, 1, ONE_HASH, true);
    table.lookup(ONE_ROW, 1, ONE_HASH, ONE_GROUP);
    return ONE_GROUP[0]!;
  }

  /** The group of NULL, found or created once. */
  private nullKeyGroup(table: GroupTable): number {
    if (this.nullGroup < 0)
      this.nullGroup = this.lookupOne(table, nullView(table.keys[0]!.column.physical, 1), 0);
    return this.nullGroup;
  }

  /** One integer key whose values span a small range: a direct-mapped array instead of hashing. */
  private assignDirect(
    table: GroupTable,
    view: NumberView,
    rows: Int32Array | null,
    count: number,
    groups: Int32Array,
  ): boolean {
    const direct = this.direct!;
    const { values, valid } = view;
    if (rows === null && valid === null)
      return this.assignDirectDense(table, direct, view, count, groups);
    const selected = rows ?? identity(count);
    let min = Infinity;
    let max = -Infinity;
    for (let k = 0; k < count; k++) {
      const row = selected[k]!;
      if (valid !== null && valid[row] === 0) continue;
      const value = values[row]!;
      if (value < min) min = value;
      if (value > max) max = value;
    }
    if (min <= max && !direct.cover(min, max)) return false;
    const map = direct.groups;
    const base = direct.base;
    for (let k = 0; k < count; k++) {
      const row = selected[k]!;
      if (valid !== null && valid[row] === 0) {
        groups[k] = this.nullKeyGroup(table);
        continue;
      }
      const slot = values[row]! - base;
      let group = map[slot]!;
      if (group < 0) group = map[slot] = this.lookupOne(table, view, row);
      groups[k] = group;
    }
    return true;
  }

  /** `assignDirect` over every row of a batch without NULLs. */
  private assignDirectDense(
    table: GroupTable,
    direct: DirectIndex,
    view: NumberView,
    count: number,
    groups: Int32Array,
  ): boolean {
    const values = view.values;
    let min = values[0]!;
    let max = min;
    for (let k = 1; k < count; k++) {
      const value = values[k]!;
      min = value < min ? value : min;
      max = value > max ? value : max;
    }
    if (count > 0 && !direct.cover(min, max)) return false;
    const map = direct.groups;
    const base = direct.base;
    for (let k = 0; k < count; k++) {
      const slot = values[k]! - base;
      let group = map[slot]!;
      if (group < 0) group = map[slot] = this.lookupOne(table, view, k);
      groups[k] = group;
    }
    return true;
  }

  /** One string key, dictionary-encoded: each entry is looked up once, then rows map entry to group. */
  private assignDictionary(
    table: GroupTable,
    view: DictView,
    rows: Int32Array | null,
    count: number,
    groups: Int32Array,
  ): void {
    if (view.source !== this.dictSource) {
      this.dictGroups = new Int32Array(view.dict.length).fill(-1);
      this.dictSource = view.source;
    }
    const map = this.dictGroups;
    const { indices, valid } = view;
    if (rows === null && valid === null) {
      for (let k = 0; k < count; k++) {
        const entry = indices[k]!;
        let group = map[entry]!;
        if (group < 0) group = map[entry] = this.lookupOne(table, view.dict, entry);
        groups[k] = group;
      }
      return;
    }
    const selected = rows ?? identity(count);
    for (let k = 0; k < count; k++) {
      const row = selected[k]!;
      if (valid !== null && valid[row] === 0) {
        groups[k] = this.nullKeyGroup(table);
        continue;
      }
      const entry = indices[row]!;
      let group = map[entry]!;
      if (group < 0) group = map[entry] = this.lookupOne(table, view.dict, entry);
      groups[k] = group;
    }
  }

  /** The values of `codes` (all, in order, when null) as data of the column's result type. */
  build(codes: Int32Array | null, length: number) {
    return this.table.keys[0]!.build(codes, length);
  }
}
