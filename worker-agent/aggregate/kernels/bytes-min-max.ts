/** min and max over strings (plain or dictionary-encoded), by UTF-8 bytes. */
import { DataType, type Data } from 'apache-arrow';
import { nullData, stringData } from './arrow-build.ts';
import { expectKind } from './accumulator.ts';
import { compareBytes } from './bytes-compare.ts';
import { ExtremeAccumulator } from './extreme-accumulator.ts';
import type { ColumnView } from './column-view.ts';
import { identity } from './rows.ts';

export class BytesMinMaxAccumulator extends ExtremeAccumulator {
  /** Each group's best string (a copy), undefined until it has one. */
  private best: (Uint8Array | undefined)[] = [];

  reserve(): void {}

  add(view: ColumnView | null, rows: Int32Array | null, groups: Int32Array, count: number): void {
    const selected = rows ?? identity(count);
    const column = expectKind(view, ['bytes', 'dict']);
    const { bytes, offsets } = column.kind === 'dict' ? column.dict : column;
    const indices = column.kind === 'dict' ? column.indices : null;
    const valid = column.valid;
    const { best, max } = this;
    for (let k = 0; k < count; k++) {
      const row = selected[k]!;
      if (valid !== null && valid[row] === 0) continue;
      const entry = indices !== null ? indices[row]! : row;
      const start = offsets[entry]!;
      const end = offsets[entry + 1]!;
      const group = groups[k]!;
      const current = best[group];
      if (current !== undefined) {
        const order = compareBytes(bytes, start, end, current, 0, current.length);
        if (max ? order <= 0 : order >= 0) continue;
      }
      best[group] = bytes.slice(start, end);
    }
  }

  protected values(groups: Int32Array | null, length: number): Data {
    const type = this.column.output;
    if (DataType.isNull(type)) return nullData(type, length);
    let size = 0;
    for (let i = 0; i < length; i++) size += this.best[groups ? groups[i]! : i]?.length ?? 0;
    const bytes = new Uint8Array(size);
    const offsets = new Int32Array(length + 1);
    const valid = new Uint8Array(length);
    let at = 0;
    for (let i = 0; i < length; i++) {
      const value = this.best[groups ? groups[i]! : i];
      if (value !== undefined) {
        bytes.set(value, at);
        at += value.length;
        valid[i] = 1;
      }
      offsets[i + 1] = at;
    }
    return stringData(type, offsets, bytes, length, valid);
  }
}
