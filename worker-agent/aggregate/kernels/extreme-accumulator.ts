/** What min and max share whatever the value type: a partial column holds the best values themselves. */
import { DataType, Field, type Data } from 'apache-arrow';
import type { Accumulator, PartialBatch, PartialColumn } from './accumulator.ts';
import type { ColumnInfo } from './column-types.ts';
import { viewOf, type ColumnView } from './column-view.ts';
import { extremeName } from './partial-schema.ts';

export abstract class ExtremeAccumulator implements Accumulator {
  protected readonly name: string;

  /** `column` describes the values' result type (the input column's, or the partial column's). */
  constructor(
    index: number,
    protected readonly max: boolean,
    protected readonly column: ColumnInfo,
  ) {
    this.name = extremeName(index);
  }

  abstract reserve(groups: number): void;
  abstract add(
    view: ColumnView | null,
    rows: Int32Array | null,
    groups: Int32Array,
    count: number,
  ): void;
  /** The best values of `groups` (of groups 0..length-1 when null) as data of the result type. */
  protected abstract values(groups: Int32Array | null, length: number): Data;

  /** A partial's best values fold in exactly like input rows. */
  merge(partial: PartialBatch, groups: Int32Array, count: number): void {
    const data = partial(this.name);
    if (DataType.isNull(data.type)) return;
    this.add(viewOf(data, this.column), null, groups, count);
  }

  partial(groups: Int32Array, length: number): PartialColumn[] {
    return [
      { field: new Field(this.name, this.column.output, true), data: this.values(groups, length) },
    ];
  }

  final(length: number): Data {
    return this.values(null, length);
  }
}
