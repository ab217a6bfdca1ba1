/** min and max over values read as numbers (small ints, floats, decimals, Date32, booleans); NaN is the largest. */
import { grow } from './growth.ts';
import { DataType, type Data } from 'apache-arrow';
import { boolData, fixedData, nullData } from './arrow-build.ts';
import { expectKind } from './accumulator.ts';
import type { ColumnInfo } from './column-types.ts';
import { ExtremeAccumulator } from './extreme-accumulator.ts';
import type { ColumnView, NumArray } from './column-view.ts';
import { identity } from './rows.ts';

const HAS_VALUE = 1;
const HAS_NAN = 2;

type NumberCtor = new (length: number) => NumArray;

export class NumberMinMaxAccumulator extends ExtremeAccumulator {
  /** The best value times `sign`, so max and min share one `>` comparison. */
  private best: Float64Array = new Float64Array(16);
  private flags: Uint8Array = new Uint8Array(16);
  private readonly sign: number;

  constructor(index: number, max: boolean, column: ColumnInfo) {
    super(index, max, column);
    this.sign = max ? 1 : -1;
  }

  reserve(groups: number): void {
    this.best = grow(this.best, groups);
    this.flags = grow(this.flags, groups);
  }

  add(view: ColumnView | null, rows: Int32Array | null, groups: Int32Array, count: number): void {
    const { values, valid } = expectKind(view, ['number']);
    const { best, flags, sign } = this;
    if (rows === null && valid === null) {
      // No NULLs, no filter: the tight loop.
      for (let k = 0; k < count; k++) {
        const group = groups[k]!;
        const value = values[k]!;
        if (value !== value) {
          flags[group]! |= HAS_NAN;
          continue;
        }
        const signed = sign * value;
        if (signed > best[group]! || (flags[group]! & HAS_VALUE) === 0) {
          best[group] = signed;
          flags[group]! |= HAS_VALUE;
        }
      }
      return;
    }
    const selected = rows ?? identity(count);
    for (let k = 0; k < count; k++) {
      const row = selected[k]!;
      if (valid !== null && valid[row] === 0) continue;
      const value = values[row]!;
      const group = groups[k]!;
      if (value !== value) {
        flags[group]! |= HAS_NAN;
        continue;
      }
      const signed = sign * value;
      if ((flags[group]! & HAS_VALUE) === 0 || signed > best[group]!) {
        best[group] = signed;
        flags[group]! |= HAS_VALUE;
      }
    }
  }

  protected values(groups: Int32Array | null, length: number): Data {
    const type = this.column.output;
    if (DataType.isNull(type)) return nullData(type, length);
    const out = new (type.ArrayType as NumberCtor)(length);
    const valid = new Uint8Array(length);
    for (let i = 0; i < length; i++) {
      const group = groups ? groups[i]! : i;
      const flags = this.flags[group]!;
      // NaN sorts above every number: it is the max whenever seen, the min only when nothing else was.
      if ((flags & HAS_NAN) !== 0 && (this.max || (flags & HAS_VALUE) === 0)) out[i] = NaN;
      else if ((flags & HAS_VALUE) !== 0) out[i] = this.sign * this.best[group]!;
      else continue;
      valid[i] = 1;
    }
    return DataType.isBool(type)
      ? boolData(type, out, length, valid)
      : fixedData(type, out, length, valid);
  }
}
