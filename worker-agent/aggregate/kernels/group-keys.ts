/** Assigns each row of a batch its group: one key column's codes are the groups; several columns' code tuples are looked up. */
import type { Data } from 'apache-arrow';
import { ColumnCodes } from './column-codes.ts';
import type { ColumnInfo } from './column-types.ts';
import type { ColumnView } from './column-view.ts';
import { combineHash } from './hash.ts';
import { TupleTable } from './tuple-table.ts';
import { DirectTuples } from './direct-tuples.ts';

export class GroupKeys {
  /** One per group-by column: its distinct values and their codes. */
  private readonly columns: ColumnCodes[];
  /** Several columns: tuples of codes → groups. */
  private readonly tuples: TupleTable | null;
  /** Several columns with few distinct values each: tuples → groups by direct addressing. */
  private readonly direct: DirectTuples | null;
  /** Several columns: each group's key hash (of its values, as partitionOf hashes them). */
  private groupHashes: Int32Array = new Int32Array(16);
  private codes: Int32Array[] = [];

  constructor(columns: readonly ColumnInfo[]) {
    this.columns = columns.map((column) => new ColumnCodes(column));
    this.tuples = columns.length > 1 ? new TupleTable(columns.length) : null;
    this.direct = this.tuples ? new DirectTuples(this.tuples) : null;
  }

  /** Groups so far (the one global group without group-by columns). */
  get size(): number {
    if (this.tuples) return this.tuples.size;
    return this.columns.length === 1 ? this.columns[0]!.size : 1;
  }

  /** The key hash of `group`, from its values (0 for the global group). */
  hashOf(group: number): number {
    if (this.tuples) return this.groupHashes[group]!;
    return this.columns.length === 1 ? this.columns[0]!.hashOf(group) : 0;
  }

  /** `groups[k]` gets the group of row `rows[k]` (row k when `rows` is null), given the key columns' views. */
  assign(
    views: readonly ColumnView[],
    rows: Int32Array | null,
    count: number,
    groups: Int32Array,
  ): void {
    const tuples = this.tuples;
    if (tuples === null) {
      if (this.columns.length === 1) this.columns[0]!.assign(views[0]!, rows, count, groups);
      else groups.fill(0, 0, count);
      return;
    }
    if ((this.codes[0]?.length ?? 0) < count)
      this.codes = this.columns.map(() => new Int32Array(count));
    this.columns.forEach((column, j) => column.assign(views[j]!, rows, count, this.codes[j]!));
    const before = tuples.size;
    const direct = this.direct!;
    if (direct.fit(this.columns.map((column) => column.size)))
      direct.lookup(this.codes, count, groups);
    else tuples.lookup(this.codes, count, groups);
    if (tuples.size > before) this.hashNewGroups(tuples, before);
  }

  /** Key hashes of groups [from, size): the column hashes of their values, combined in column order. */
  private hashNewGroups(tuples: TupleTable, from: number): void {
    if (tuples.size > this.groupHashes.length) {
      const hashes = new Int32Array(Math.max(tuples.size, this.groupHashes.length * 2));
      hashes.set(this.groupHashes);
      this.groupHashes = hashes;
    }
    const width = tuples.width;
    for (let group = from; group < tuples.size; group++) {
      let hash = this.columns[0]!.hashOf(tuples.tuples[group * width]!);
      for (let j = 1; j < width; j++)
        hash = combineHash(hash, this.columns[j]!.hashOf(tuples.tuples[group * width + j]!));
      this.groupHashes[group] = hash;
    }
  }

  /** The key columns' data for `groups` (all groups in order when null). */
  build(groups: Int32Array | null, length: number): Data[] {
    const tuples = this.tuples;
    if (tuples === null) return this.columns.map((column) => column.build(groups, length));
    return this.columns.map((column, j) => {
      const codes = new Int32Array(length);
      for (let i = 0; i < length; i++)
        codes[i] = tuples.tuples[(groups ? groups[i]! : i) * tuples.width + j]!;
      return column.build(codes, length);
    });
  }
}
