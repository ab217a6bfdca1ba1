/** Keys held as 64-bit words: Int64, Uint64, timestamps, Date64, Time64 (exact, no bigint per row). */
import { grow } from './growth.ts';
import type { Data } from 'apache-arrow';
import { fixedData } from './arrow-build.ts';
import type { ColumnInfo } from './column-types.ts';
import type { ColumnView } from './column-view.ts';
import { hashInteger, hashWords, NULL_HASH } from './hash.ts';
import type { KeyColumn } from './key-column.ts';

const DAY_MS = 86_400_000;

type WideCtor = new (buffer: ArrayBuffer) => BigInt64Array | BigUint64Array;

export class WideKeys implements KeyColumn {
  private keys: Int32Array = new Int32Array(32);
  private nulls: Uint8Array = new Uint8Array(16);
  private size = 0;
  private words: Int32Array = new Int32Array(0);
  private valid: Uint8Array | null = null;

  constructor(readonly column: ColumnInfo) {}

  bind(view: ColumnView): void {
    if (view.kind !== 'wide') throw new Error(`wide key bound to a ${view.kind} view`);
    this.words = view.words;
    this.valid = view.valid;
  }

  hash(rows: Int32Array, count: number, hashes: Int32Array): void {
    const { words, valid } = this;
    const days = this.column.dateMillis;
    for (let k = 0; k < count; k++) {
      const row = rows[k]!;
      let h: number;
      if (valid !== null && valid[row] === 0) h = NULL_HASH;
      else if (days)
        h = hashInteger(
          Math.floor((words[2 * row + 1]! * 0x1_0000_0000 + (words[2 * row]! >>> 0)) / DAY_MS),
        );
      else h = hashWords(words[2 * row]!, words[2 * row + 1]!);
      hashes[k] = h;
    }
  }

  equals(row: number, group: number): boolean {
    const isNull = this.valid !== null && this.valid[row] === 0;
    if (this.nulls[group] === 1 || isNull) return this.nulls[group] === 1 && isNull;
    return (
      this.words[2 * row] === this.keys[2 * group] &&
      this.words[2 * row + 1] === this.keys[2 * group + 1]
    );
  }

  append(row: number): void {
    this.keys = grow(this.keys, 2 * (this.size + 1));
    this.nulls = grow(this.nulls, this.size + 1);
    if (this.valid !== null && this.valid[row] === 0) this.nulls[this.size] = 1;
    else {
      this.keys[2 * this.size] = this.words[2 * row]!;
      this.keys[2 * this.size + 1] = this.words[2 * row + 1]!;
    }
    this.size++;
  }

  build(groups: Int32Array | null, length: number): Data {
    const words = new Int32Array(length * 2);
    const valid = new Uint8Array(length);
    for (let i = 0; i < length; i++) {
      const group = groups ? groups[i]! : i;
      words[2 * i] = this.keys[2 * group]!;
      words[2 * i + 1] = this.keys[2 * group + 1]!;
      valid[i] = 1 - this.nulls[group]!;
    }
    const type = this.column.output;
    return fixedData(type, new (type.ArrayType as WideCtor)(words.buffer), length, valid);
  }
}
