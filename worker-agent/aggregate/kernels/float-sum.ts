/** sum and avg over floats and decimals: a double sum and a non-NULL count per group. */
import { grow } from './growth.ts';
import { DataType, Field, Float64, Int64, type Data } from 'apache-arrow';
import { countsOf, fixedData, int64FromCounts } from './arrow-build.ts';
import {
  expectKind,
  type Accumulator,
  type PartialBatch,
  type PartialColumn,
} from './accumulator.ts';
import type { ColumnView } from './column-view.ts';
import { nonNullName, sumName } from './partial-schema.ts';
import { NonNullCounts, type GroupRows } from './group-rows.ts';
import { sumFloats } from './sum-rows.ts';

export class FloatSumAccumulator implements Accumulator {
  private sums: Float64Array = new Float64Array(16);
  private readonly sumName: string;
  private readonly countName: string;

  private readonly nonNull: NonNullCounts;

  /**
   * `average`: the final value is sum / count (avg) rather than the sum; `rows`: the map side's
   * rows per group (null on the reduce side).
   */
  constructor(
    index: number,
    private readonly average: boolean,
    rows: GroupRows | null,
  ) {
    this.sumName = sumName(index);
    this.countName = nonNullName(index);
    this.nonNull = new NonNullCounts(rows);
  }

  reserve(groups: number): void {
    this.sums = grow(this.sums, groups);
    this.nonNull.reserve(groups);
  }

  add(view: ColumnView | null, rows: Int32Array | null, groups: Int32Array, count: number): void {
    const { values, valid } = expectKind(view, ['number']);
    sumFloats(this.sums, this.nonNull.tally(), values, valid, rows, groups, 0, count);
  }

  merge(partial: PartialBatch, groups: Int32Array, count: number): void {
    const sumData = partial(this.sumName);
    const partCounts = countsOf(partial(this.countName));
    const partSums = DataType.isNull(sumData.type) ? null : (sumData.values as Float64Array);
    const { sums } = this;
    const counts = this.nonNull.counts;
    for (let k = 0; k < count; k++) {
      if (partCounts[k] === 0) continue;
      const group = groups[k]!;
      sums[group]! += partSums![k]!;
      counts[group]! += partCounts[k]!;
    }
  }

  partial(groups: Int32Array, length: number): PartialColumn[] {
    const sums = new Float64Array(length);
    for (let i = 0; i < length; i++) sums[i] = this.sums[groups[i]!]!;
    return [
      {
        field: new Field(this.sumName, new Float64(), false),
        data: fixedData(new Float64(), sums, length),
      },
      {
        field: new Field(this.countName, new Int64(), false),
        data: int64FromCounts(this.nonNull.current(), groups, length),
      },
    ];
  }

  final(length: number): Data {
    const out = new Float64Array(length);
    const valid = new Uint8Array(length);
    const counts = this.nonNull.current();
    for (let group = 0; group < length; group++) {
      const n = counts[group]!;
      if (n === 0) continue;
      out[group] = this.average ? this.sums[group]! / n : this.sums[group]!;
      valid[group] = 1;
    }
    return fixedData(new Float64(), out, length, valid);
  }
}
