/** Keys read as JS numbers: integers up to 32 bits, floats, decimals, dates in days, booleans. */
import { grow } from './growth.ts';
import { DataType, type Data } from 'apache-arrow';
import { boolData, fixedData, nullData } from './arrow-build.ts';
import type { ColumnInfo } from './column-types.ts';
import type { ColumnView, NumArray } from './column-view.ts';
import { hashFloat, hashInteger, NULL_HASH } from './hash.ts';
import type { KeyColumn } from './key-column.ts';

type NumberCtor = new (length: number) => NumArray;

export class NumberKeys implements KeyColumn {
  private keys: Float64Array = new Float64Array(16);
  private nulls: Uint8Array = new Uint8Array(16);
  private size = 0;
  private values: NumArray = new Float64Array(0);
  private valid: Uint8Array | null = null;
  private readonly float: boolean;

  constructor(readonly column: ColumnInfo) {
    this.float = column.family === 'float' || column.family === 'decimal';
  }

  bind(view: ColumnView): void {
    if (view.kind !== 'number') throw new Error(`number key bound to a ${view.kind} view`);
    this.values = view.values;
    this.valid = view.valid;
  }

  hash(rows: Int32Array, count: number, hashes: Int32Array): void {
    const { values, valid, float } = this;
    for (let k = 0; k < count; k++) {
      const row = rows[k]!;
      const h =
        valid !== null && valid[row] === 0
          ? NULL_HASH
          : float
            ? hashFloat(values[row]!)
            : hashInteger(values[row]!);
      hashes[k] = h;
    }
  }

  equals(row: number, group: number): boolean {
    const isNull = this.valid !== null && this.valid[row] === 0;
    if (this.nulls[group] === 1 || isNull) return this.nulls[group] === 1 && isNull;
    const a = this.values[row]!;
    const b = this.keys[group]!;
    return a === b || (a !== a && b !== b);
  }

  append(row: number): void {
    this.keys = grow(this.keys, this.size + 1);
    this.nulls = grow(this.nulls, this.size + 1);
    if (this.valid !== null && this.valid[row] === 0) this.nulls[this.size] = 1;
    else this.keys[this.size] = this.values[row]!;
    this.size++;
  }

  build(groups: Int32Array | null, length: number): Data {
    const type = this.column.output;
    if (DataType.isNull(type)) return nullData(type, length);
    const values = new (type.ArrayType as NumberCtor)(length);
    const valid = new Uint8Array(length);
    for (let i = 0; i < length; i++) {
      const group = groups ? groups[i]! : i;
      values[i] = this.keys[group]!;
      valid[i] = 1 - this.nulls[group]!;
    }
    return DataType.isBool(type)
      ? boolData(type, values, length, valid)
      : fixedData(type, values, length, valid);
  }
}
