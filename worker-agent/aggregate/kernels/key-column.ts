/** The distinct values of one column: hashes a batch's values, compares them with stored ones, stores new ones. */
import type { Data } from 'apache-arrow';
import type { ColumnInfo } from './column-types.ts';
import type { ColumnView } from './column-view.ts';

export interface KeyColumn {
  readonly column: ColumnInfo;
  /** Points the column at the current batch's values. */
  bind(view: ColumnView): void;
  /** `hashes[k]` gets the hash of row `rows[k]`'s value (as partitionOf hashes it). */
  hash(rows: Int32Array, count: number, hashes: Int32Array): void;
  /** Whether row `row` of the bound batch holds stored key `group`. */
  equals(row: number, group: number): boolean;
  /** Stores row `row`'s value as the next key. */
  append(row: number): void;
  /** The stored keys `groups` (all, in order, when null) as data of the column's output type. */
  build(groups: Int32Array | null, length: number): Data;
}
