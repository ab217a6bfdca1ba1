/** Assigns each row of a batch its group id: fast paths for one dictionary or small-integer key, else hash + probe. */
import type { ColumnInfo } from './column-types.ts';
import { nullView, type ColumnView, type DictView, type NumberView } from './column-view.ts';
import { DirectIndex } from './direct-index.ts';
import { GroupTable, keyColumnFor } from './group-table.ts';
import { identity } from './rows.ts';

const ONE_ROW = new Int32Array(1);
const ONE_HASH = new Int32Array(1);
const ONE_GROUP = new Int32Array(1);

export class GroupKeys {
  /** None without group-by columns: then every row is in the one global group 0. */
  private readonly table: GroupTable | null;
  private hashes: Int32Array = new Int32Array(0);
  /** Dictionary fast path: the group of each entry of the current dictionary (-1 = not seen yet). */
  private dictSource: object | null = null;
  private dictGroups: Int32Array = new Int32Array(0);
  private nullGroup = -1;

  /** Direct-mapped fast path of one integer-valued key (ints up to 32 bits, Date32, booleans). */
  private readonly direct: DirectIndex | null;

  constructor(columns: readonly ColumnInfo[]) {
    this.table = columns.length === 0 ? null : new GroupTable(columns.map(keyColumnFor));
    const only = columns.length === 1 ? columns[0]! : null;
    const integers = only !== null && only.physical === 'number' && ['int', 'date', 'bool', 'time'].includes(only.family);
    this.direct = integers ? new DirectIndex() : null;
  }

  get size(): number {
    return this.table ? this.table.size : 1;
  }

  /** The key hash of `group` (0 for the global group). */
  hashOf(group: number): number {
    return this.table ? this.table.groupHashes[group]! : 0;
  }

  /** `groups[k]` gets the group of row `rows[k]` (row k when `rows` is null), given the key columns' views. */
  assign(
    views: readonly ColumnView[],
    rows: Int32Array | null,
    count: number,
    groups: Int32Array,
  ): void {
    const table = this.table;
    if (table === null) {
      groups.fill(0, 0, count);
      return;
    }
    const only = views.length === 1 ? views[0]! : null;
    if (only !== null && only.kind === 'dict') {
      this.assignDictionary(table, only, rows, count, groups);
      return;
    }
    if (only !== null && only.kind === 'number' && this.direct !== null && this.assignDirect(table, only, rows, count, groups)) return;
    if (this.hashes.length < count) this.hashes = new Int32Array(count);
    const selected = rows ?? identity(count);
    table.keys.forEach((key, j) => {
      key.bind(views[j]!);
      key.hash(selected, count, this.hashes, j === 0);
    });
    table.lookup(selected, count, this.hashes, groups);
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
    if (this.nullGroup < 0) this.nullGroup = this.lookupOne(table, nullView(table.keys[0]!.column.physical, 1), 0);
    return this.nullGroup;
  }

  /** One integer key whose values span a small range: a direct-mapped array instead of hashing. */
  private assignDirect(table: GroupTable, view: NumberView, rows: Int32Array | null, count: number, groups: Int32Array): boolean {
    const direct = this.direct!;
    const { values, valid } = view;
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

  /** The key columns' data for `groups` (all groups in order when null). */
  build(groups: Int32Array | null, length: number) {
    return this.table ? this.table.keys.map((key) => key.build(groups, length)) : [];
  }
}
