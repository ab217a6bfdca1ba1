/** count(*) and count(column): rows, or non-NULL values, per group. */
import { grow } from './growth.ts';
import { Field, Int64, type Data } from 'apache-arrow';
import { countsOf, int64FromCounts } from './arrow-build.ts';
import { type Accumulator, type PartialBatch, type PartialColumn } from './accumulator.ts';
import type { ColumnView } from './column-view.ts';
import { countRows, type GroupRows } from './group-rows.ts';
import { countName } from './partial-schema.ts';
import { identity } from './rows.ts';

export class CountAccumulator implements Accumulator {
  /** Exact as doubles: counts stay far below 2^53. */
  private counts: Float64Array = new Float64Array(16);
  private readonly name: string;

  /**
   * `star`: count(*), which counts rows whatever their values; `groupRows`: the map side's rows
   * per group, which count(*) is (null on the reduce side, and for count(column)).
   */
  constructor(
    index: number,
    private readonly star: boolean,
    private readonly groupRows: GroupRows | null,
  ) {
    this.name = countName(index);
  }

  /** The counts: the shared rows per group, or this accumulator's own. */
  private get tally(): Float64Array {
    return this.groupRows?.rows ?? this.counts;
  }

  reserve(groups: number): void {
    this.counts = grow(this.counts, groups);
  }

  add(view: ColumnView | null, rows: Int32Array | null, groups: Int32Array, count: number): void {
    // The aggregator counted the batch's rows already.
    if (this.groupRows) return;
    const counts = this.counts;
    const valid = this.star || view === null ? null : view.valid;
    if (valid === null) {
      countRows(counts, groups, count);
    } else {
      // Only count(column) of a column with NULLs gets here: count(*) never reads validity.
      const selected = rows ?? identity(count);
      for (let k = 0; k < count; k++) if (valid[selected[k]!] !== 0) counts[groups[k]!]!++;
    }
  }

  merge(partial: PartialBatch, groups: Int32Array, count: number): void {
    const values = countsOf(partial(this.name));
    const counts = this.counts;
    for (let k = 0; k < count; k++) counts[groups[k]!]! += values[k]!;
  }

  partial(groups: Int32Array, length: number): PartialColumn[] {
    return [
      {
        field: new Field(this.name, new Int64(), false),
        data: int64FromCounts(this.tally, groups, length),
      },
    ];
  }

  final(length: number): Data {
    return int64FromCounts(this.tally, null, length);
  }
}
