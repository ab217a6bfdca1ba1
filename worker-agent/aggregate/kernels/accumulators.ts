/** Picks each aggregate's accumulator: from the input column on the map side, from partial column types on the reduce side. */
import { DataType, type Field, type List } from 'apache-arrow';
import { aggregateName, type AggregateExpr } from '../../../protocol/index.ts';
import type { Accumulator } from './accumulator.ts';
import { BytesMinMaxAccumulator } from './bytes-min-max.ts';
import { describeType, type ColumnInfo } from './column-types.ts';
import { CountAccumulator } from './count.ts';
import { DistinctAccumulator } from './count-distinct.ts';
import { KernelError } from './errors.ts';
import { FloatSumAccumulator } from './float-sum.ts';
import type { GroupRows } from './group-rows.ts';
import { IntSumAccumulator } from './int-sum.ts';
import { NumberMinMaxAccumulator } from './number-min-max.ts';
import { distinctName, extremeName, sumName } from './partial-schema.ts';
import { WideMinMaxAccumulator } from './wide-min-max.ts';

function minMax(agg: AggregateExpr, index: number, column: ColumnInfo): Accumulator {
  const max = agg.op === 'max';
  switch (column.physical) {
    case 'number':
      return new NumberMinMaxAccumulator(index, max, column);
    case 'wide':
      return new WideMinMaxAccumulator(index, max, column);
    case 'bytes':
    case 'dict':
      return new BytesMinMaxAccumulator(index, max, column);
  }
}

/** Whether a map-side accumulator of `aggregates` reads the rows per group (GroupRows). */
export const needsGroupRows = (aggregates: readonly AggregateExpr[]): boolean =>
  aggregates.some(
    (agg) => agg.op === 'sum' || agg.op === 'avg' || (agg.op === 'count' && !agg.column),
  );

/**
 * The map-side accumulator of aggregate `index`, reading `column` (null for count(*)); `rows` are
 * the rows per group the aggregator counts for count(*), sum and avg (see needsGroupRows).
 */
export function mapAccumulator(
  agg: AggregateExpr,
  index: number,
  column: ColumnInfo | null,
  rows: GroupRows,
): Accumulator {
  if (column === null) return new CountAccumulator(index, true, rows);
  switch (agg.op) {
    case 'count':
      return new CountAccumulator(index, false, null);
    case 'sum':
    case 'avg':
      return column.family === 'int'
        ? new IntSumAccumulator(index, agg.op === 'avg', column.unsigned, aggregateName(agg), rows)
        : new FloatSumAccumulator(index, agg.op === 'avg', rows);
    case 'min':
    case 'max':
      return minMax(agg, index, column);
    case 'count_distinct':
      return new DistinctAccumulator(index, column);
  }
}

function describePartial(type: DataType, name: string): ColumnInfo {
  const info = describeType(type);
  if (!info) throw new KernelError(`partial column ${name} has an unexpected type ${String(type)}`);
  return info;
}

/** The reduce-side accumulator of aggregate `index`, given the partial columns' types by name. */
export function mergeAccumulator(
  agg: AggregateExpr,
  index: number,
  types: ReadonlyMap<string, DataType>,
): Accumulator {
  const typeOf = (name: string): DataType => {
    const type = types.get(name);
    if (!type) throw new KernelError(`the partials have no column ${name}`);
    return type;
  };
  switch (agg.op) {
    case 'count':
      return new CountAccumulator(index, true, null);
    case 'sum':
    case 'avg': {
      const average = agg.op === 'avg';
      return DataType.isDecimal(typeOf(sumName(index)))
        ? new IntSumAccumulator(index, average, false, aggregateName(agg), null)
        : new FloatSumAccumulator(index, average, null);
    }
    case 'min':
    case 'max':
      return minMax(agg, index, describePartial(typeOf(extremeName(index)), extremeName(index)));
    case 'count_distinct': {
      const list = typeOf(distinctName(index)) as List;
      const item = (list.children[0] as Field | undefined)?.type as DataType | undefined;
      if (!DataType.isList(list) || !item)
        throw new KernelError(`partial column ${distinctName(index)} is not a list`);
      return new DistinctAccumulator(index, describePartial(item, distinctName(index)));
    }
  }
}
