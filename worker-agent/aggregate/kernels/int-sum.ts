/** sum and avg over integers, exact: 32-bit lanes summed in doubles, settled into bigints every 2^20 rows. */
import { grow } from './growth.ts';
import { DataType, Decimal, Field, Float64, Int64, type Data } from 'apache-arrow';
import { countsOf, fixedData, int64FromCounts } from './arrow-build.ts';
import {
  expectKind,
  type Accumulator,
  type PartialBatch,
  type PartialColumn,
} from './accumulator.ts';
import type { ColumnView } from './column-view.ts';
import { KernelError } from './errors.ts';
import { nonNullName, sumName } from './partial-schema.ts';
import { identity } from './rows.ts';
import { NonNullCounts, type GroupRows } from './group-rows.ts';
import { sumIntegers } from './sum-rows.ts';

/**
 * Every value added to a lane is below 2^32 in magnitude, so 2^20 additions keep each lane's double an
 * exact integer (below 2^52); lanes are then settled into a bigint per group.
 */
const ROWS_PER_SETTLE = 1 << 20;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const MASK32 = 0xffff_ffffn;
const SUM_TYPE = new Decimal(0, 38, 128);

export class IntSumAccumulator implements Accumulator {
  /** Lane w of group g holds a sum of 32-bit words of weight 2^(32 w). */
  private lanes: Float64Array[] = [];
  private settled: bigint[] = [];
  private readonly nonNull: NonNullCounts;
  private groups = 0;
  private sinceSettle = 0;
  private readonly sumName: string;
  private readonly countName: string;

  /**
   * `average`: the final value is sum / count; `unsigned`: 64-bit input words are unsigned;
   * `label` names the aggregate in errors; `rows`: the map side's rows per group (null on the
   * reduce side).
   */
  constructor(
    index: number,
    private readonly average: boolean,
    private readonly unsigned: boolean,
    private readonly label: string,
    rows: GroupRows | null,
  ) {
    this.sumName = sumName(index);
    this.countName = nonNullName(index);
    this.nonNull = new NonNullCounts(rows);
  }

  reserve(groups: number): void {
    this.groups = Math.max(this.groups, groups);
    this.nonNull.reserve(groups);
    this.lanes = this.lanes.map((lane) => grow(lane, groups));
  }

  private useLanes(count: number): Float64Array[] {
    while (this.lanes.length < count) this.lanes.push(new Float64Array(this.nonNull.counts.length));
    return this.lanes;
  }

  /** The end of the next piece of [from, count) that keeps the lanes exact (settling them first if due). */
  private pieceEnd(from: number, count: number): number {
    if (this.sinceSettle >= ROWS_PER_SETTLE) this.settle();
    const to = Math.min(count, from + ROWS_PER_SETTLE - this.sinceSettle);
    this.sinceSettle += to - from;
    return to;
  }

  add(view: ColumnView | null, rows: Int32Array | null, groups: Int32Array, count: number): void {
    const column = expectKind(view, ['number', 'wide']);
    this.useLanes(column.kind === 'number' ? 1 : 2);
    for (let from = 0; from < count;) {
      const to = this.pieceEnd(from, count);
      if (column.kind === 'number')
        sumIntegers(
          this.lanes[0]!,
          this.nonNull.tally(),
          column.values,
          column.valid,
          rows,
          groups,
          from,
          to,
        );
      else this.addWords(column.words, column.valid, rows ?? identity(to), groups, from, to);
      from = to;
    }
  }

  private addWords(
    words: Int32Array,
    valid: Uint8Array | null,
    rows: Int32Array,
    groups: Int32Array,
    from: number,
    to: number,
  ): void {
    const low = this.lanes[0]!;
    const high = this.lanes[1]!;
    const nulls = this.nonNull.tally();
    const unsigned = this.unsigned;
    for (let k = from; k < to; k++) {
      const row = rows[k]!;
      const group = groups[k]!;
      if (valid !== null && valid[row] === 0) {
        nulls[group]!++;
        continue;
      }
      low[group]! += words[2 * row]! >>> 0;
      high[group]! += unsigned ? words[2 * row + 1]! >>> 0 : words[2 * row + 1]!;
    }
  }

  merge(partial: PartialBatch, groups: Int32Array, count: number): void {
    const sums = partial(this.sumName);
    const partCounts = countsOf(partial(this.countName));
    if (DataType.isNull(sums.type)) return;
    const words = sums.values as Uint32Array;
    const [l0, l1, l2, l3] = this.useLanes(4) as [
      Float64Array,
      Float64Array,
      Float64Array,
      Float64Array,
    ];
    const counts = this.nonNull.counts;
    for (let from = 0; from < count;) {
      const to = this.pieceEnd(from, count);
      for (let k = from; k < to; k++) {
        if (partCounts[k] === 0) continue;
        const group = groups[k]!;
        l0[group]! += words[4 * k]!;
        l1[group]! += words[4 * k + 1]!;
        l2[group]! += words[4 * k + 2]!;
        l3[group]! += words[4 * k + 3]! | 0;
        counts[group]! += partCounts[k]!;
      }
      from = to;
    }
  }

  /** Moves every lane into the bigint totals. */
  private settle(): void {
    const lanes = this.lanes;
    for (let group = 0; group < this.groups; group++) {
      let total = 0n;
      let touched = false;
      for (let w = 0; w < lanes.length; w++) {
        const value = lanes[w]![group]!;
        if (value === 0) continue;
        total += BigInt(value) << BigInt(32 * w);
        lanes[w]![group] = 0;
        touched = true;
      }
      if (touched) this.settled[group] = (this.settled[group] ?? 0n) + total;
    }
    this.sinceSettle = 0;
  }

  private total(group: number): bigint {
    let total = this.settled[group] ?? 0n;
    for (let w = 0; w < this.lanes.length; w++) {
      const value = this.lanes[w]![group]!;
      if (value !== 0) total += BigInt(value) << BigInt(32 * w);
    }
    return total;
  }

  partial(groups: Int32Array, length: number): PartialColumn[] {
    const words = new Uint32Array(length * 4);
    for (let i = 0; i < length; i++) {
      const total = BigInt.asUintN(128, this.total(groups[i]!));
      for (let w = 0; w < 4; w++) words[4 * i + w] = Number((total >> BigInt(32 * w)) & MASK32);
    }
    return [
      { field: new Field(this.sumName, SUM_TYPE, false), data: fixedData(SUM_TYPE, words, length) },
      {
        field: new Field(this.countName, new Int64(), false),
        data: int64FromCounts(this.nonNull.current(), groups, length),
      },
    ];
  }

  final(length: number): Data {
    const valid = new Uint8Array(length);
    const counts = this.nonNull.current();
    if (this.average) {
      const out = new Float64Array(length);
      for (let group = 0; group < length; group++) {
        const n = counts[group]!;
        if (n === 0) continue;
        out[group] = Number(this.total(group)) / n;
        valid[group] = 1;
      }
      return fixedData(new Float64(), out, length, valid);
    }
    const out = new BigInt64Array(length);
    for (let group = 0; group < length; group++) {
      if (counts[group] === 0) continue;
      const total = this.total(group);
      if (total < INT64_MIN || total > INT64_MAX) {
        throw new KernelError(`${this.label} overflows a 64-bit integer (${total}) in a group`);
      }
      out[group] = total;
      valid[group] = 1;
    }
    return fixedData(new Int64(), out, length, valid);
  }
}
