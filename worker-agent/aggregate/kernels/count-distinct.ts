/** count(DISTINCT column): a hash set of (group, value) pairs, shipped between phases as a list per group. */
import { grow } from './growth.ts';
import { Data, DataType, Field, List } from 'apache-arrow';
import { int64FromCounts } from './arrow-build.ts';
import { type Accumulator, type PartialBatch, type PartialColumn } from './accumulator.ts';
import type { ColumnInfo } from './column-types.ts';
import { ColumnCodes } from './column-codes.ts';
import { viewOf, type ColumnView } from './column-view.ts';
import { distinctName } from './partial-schema.ts';
import { identity } from './rows.ts';
import { TupleTable } from './tuple-table.ts';

export class DistinctAccumulator implements Accumulator {
  /** The column's distinct values, as codes. */
  private readonly values: ColumnCodes;
  /** Entries are the distinct (group, value code) pairs. */
  private readonly pairs = new TupleTable(2);
  private counts: Float64Array = new Float64Array(16);
  private groups = 0;
  /** Scratch, per batch: the rows with a value, their groups, their value codes and their entries. */
  private selected: Int32Array = new Int32Array(0);
  private owners: Int32Array = new Int32Array(0);
  private codes: Int32Array = new Int32Array(0);
  private found: Int32Array = new Int32Array(0);
  private readonly name: string;

  /** `column` describes the values (the input column, or the partial lists' items). */
  constructor(
    index: number,
    private readonly column: ColumnInfo,
  ) {
    this.values = new ColumnCodes(column);
    this.name = distinctName(index);
  }

  reserve(groups: number): void {
    this.groups = Math.max(this.groups, groups);
    this.counts = grow(this.counts, groups);
  }

  add(view: ColumnView | null, rows: Int32Array | null, groups: Int32Array, count: number): void {
    if (view === null) throw new Error('count_distinct without a column');
    this.insert(view, rows ?? identity(count), groups, count);
  }

  /** Adds the pair (owners[k], value of row rows[k]) for every k whose value is not NULL. */
  private insert(view: ColumnView, rows: Int32Array, owners: Int32Array, count: number): void {
    if (this.selected.length < count) {
      this.selected = new Int32Array(count);
      this.owners = new Int32Array(count);
      this.codes = new Int32Array(count);
      this.found = new Int32Array(count);
    }
    const valid = view.valid;
    let n = 0;
    for (let k = 0; k < count; k++) {
      const row = rows[k]!;
      if (valid !== null && valid[row] === 0) continue;
      this.owners[n] = owners[k]!;
      this.selected[n++] = row;
    }
    this.values.assign(view, this.selected, n, this.codes);
    let next = this.pairs.size;
    this.pairs.lookup([this.owners, this.codes], n, this.found);
    // New entries get consecutive ids at their first occurrence.
    for (let i = 0; i < n; i++) {
      if (this.found[i] !== next) continue;
      this.counts[this.owners[i]!]!++;
      next++;
    }
  }

  merge(partial: PartialBatch, groups: Int32Array, count: number): void {
    const data = partial(this.name);
    const child = data.children[0];
    if (!child || DataType.isNull(child.type) || count === 0) return;
    const offsets = data.valueOffsets as Int32Array;
    const total = offsets[count]! - offsets[0]!;
    const elements = new Int32Array(total);
    const owners = new Int32Array(total);
    let at = 0;
    for (let k = 0; k < count; k++) {
      for (let e = offsets[k]!; e < offsets[k + 1]!; e++) {
        elements[at] = e;
        owners[at++] = groups[k]!;
      }
    }
    this.insert(viewOf(child, this.column), elements, owners, total);
  }

  partial(groups: Int32Array, length: number): PartialColumn[] {
    // Entries bucketed by group (a counting sort), then listed for the groups asked for.
    const entries = this.pairs.size;
    const tuples = this.pairs.tuples;
    const starts = new Int32Array(this.groups + 1);
    for (let e = 0; e < entries; e++) starts[tuples[2 * e]! + 1]!++;
    for (let g = 0; g < this.groups; g++) starts[g + 1]! += starts[g]!;
    const order = new Int32Array(entries);
    const fill = starts.slice(0, this.groups);
    for (let e = 0; e < entries; e++) order[fill[tuples[2 * e]!]!++] = e;
    const offsets = new Int32Array(length + 1);
    let size = 0;
    for (let i = 0; i < length; i++) size += starts[groups[i]! + 1]! - starts[groups[i]!]!;
    const codes = new Int32Array(size);
    let at = 0;
    for (let i = 0; i < length; i++) {
      const group = groups[i]!;
      for (let j = starts[group]!; j < starts[group + 1]!; j++)
        codes[at++] = tuples[2 * order[j]! + 1]!;
      offsets[i + 1] = at;
    }
    const type = new List(new Field('item', this.column.output, true));
    const data = new Data(type, 0, length, 0, [offsets], [this.values.build(codes, size)]);
    return [{ field: new Field(this.name, type, false), data }];
  }

  final(length: number): Data {
    return int64FromCounts(this.counts, null, length);
  }
}
