/** min and max over 64-bit values (Int64, Uint64, timestamps, Date64, Time64), compared word by word. */
import { grow } from './growth.ts';
import { DataType, type Data } from 'apache-arrow';
import { fixedData, nullData } from './arrow-build.ts';
import { expectKind } from './accumulator.ts';
import { ExtremeAccumulator } from './extreme-accumulator.ts';
import type { ColumnView } from './column-view.ts';
import { identity } from './rows.ts';

type WideCtor = new (buffer: ArrayBuffer) => BigInt64Array | BigUint64Array;

export class WideMinMaxAccumulator extends ExtremeAccumulator {
  /** Low and high word of each group's best value. */
  private best: Int32Array = new Int32Array(32);
  private has: Uint8Array = new Uint8Array(16);

  reserve(groups: number): void {
    this.best = grow(this.best, groups * 2);
    this.has = grow(this.has, groups);
  }

  add(view: ColumnView | null, rows: Int32Array | null, groups: Int32Array, count: number): void {
    const selected = rows ?? identity(count);
    const { words, valid } = expectKind(view, ['wide']);
    const { best, has, max } = this;
    // Flipping the sign bit of unsigned high words makes a signed comparison order them.
    const flip = this.column.unsigned ? 0x8000_0000 | 0 : 0;
    for (let k = 0; k < count; k++) {
      const row = selected[k]!;
      if (valid !== null && valid[row] === 0) continue;
      const group = groups[k]!;
      const lo = words[2 * row]!;
      const hi = words[2 * row + 1]!;
      let better = has[group] === 0;
      if (!better) {
        const a = hi ^ flip;
        const b = best[2 * group + 1]! ^ flip;
        const order =
          a !== b
            ? a < b
              ? -1
              : 1
            : lo === best[2 * group]
              ? 0
              : lo >>> 0 < best[2 * group]! >>> 0
                ? -1
                : 1;
        better = max ? order > 0 : order < 0;
      }
      if (better) {
        best[2 * group] = lo;
        best[2 * group + 1] = hi;
        has[group] = 1;
      }
    }
  }

  protected values(groups: Int32Array | null, length: number): Data {
    const type = this.column.output;
    if (DataType.isNull(type)) return nullData(type, length);
    const words = new Int32Array(length * 2);
    const valid = new Uint8Array(length);
    for (let i = 0; i < length; i++) {
      const group = groups ? groups[i]! : i;
      words[2 * i] = this.best[2 * group]!;
      words[2 * i + 1] = this.best[2 * group + 1]!;
      valid[i] = this.has[group]!;
    }
    return fixedData(type, new (type.ArrayType as WideCtor)(words.buffer), length, valid);
  }
}
