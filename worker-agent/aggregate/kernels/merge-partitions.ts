/** The reduce step: merge one partition's partial tables from every map task and finalize its rows. */
import { DataType, Field, Float64, Int64, Null, type Data, type Table } from 'apache-arrow';
import { aggregateName, type AggregateQuery } from '../../../protocol/index.ts';
import { mergeAccumulator } from './accumulators.ts';
import { nullData, sameType, tableOf } from './arrow-build.ts';
import { describeType, type ColumnInfo } from './column-types.ts';
import { viewOf } from './column-view.ts';
import { KernelError } from './errors.ts';
import { GroupKeys } from './group-keys.ts';
import { checkPartial, keyName } from './partial-schema.ts';

/** NULL-typed, or a list of NULL-typed items: a column of a map task that knew no types. */
function untyped(type: DataType): boolean {
  return (
    DataType.isNull(type) || (DataType.isList(type) && DataType.isNull(type.children[0]!.type))
  );
}

/** Each partial column's type, taken from the first partial that knows it. */
function mergedTypes(partials: readonly Table[]): Map<string, DataType> {
  const types = new Map<string, DataType>();
  for (const table of partials) {
    for (const field of table.schema.fields) {
      const known = types.get(field.name);
      if (known === undefined || (untyped(known) && !untyped(field.type)))
        types.set(field.name, field.type);
    }
  }
  for (const table of partials) {
    for (const field of table.schema.fields) {
      const type = types.get(field.name)!;
      if (!untyped(field.type) && !sameType(field.type, type)) {
        throw new KernelError(
          `the partials disagree on the type of ${field.name}: ${String(type)} and ${String(field.type)}`,
        );
      }
    }
  }
  return types;
}

/**
 * The result of a partition no map task wrote to: no rows. Column types that depend on the input
 * are unknown there, so NULL-typed (finalizeResult takes them from the other partitions).
 */
function emptyResult(query: AggregateQuery): Table {
  const fields = [
    ...query.groupBy.map((name) => new Field(name, new Null(), true)),
    ...query.aggregates.map((agg) => {
      const counted = agg.op === 'count' || agg.op === 'count_distinct';
      const type = counted ? new Int64() : agg.op === 'avg' ? new Float64() : new Null();
      return new Field(aggregateName(agg), type, true);
    }),
  ];
  const columns = fields.map((field) => nullData(field.type, 0));
  return tableOf(fields, columns, 0);
}

/**
 * The final rows of one partition: the group-by columns (result types) then one column per aggregate
 * named `aggregateName(agg)`. No partials means no groups: every map task writes the global group of
 * a query without group-by to partition 0.
 */
export function mergePartitions(query: AggregateQuery, partials: readonly Table[]): Table {
  if (partials.length === 0) return emptyResult(query);
  for (const table of partials) checkPartial(query, table);
  const types = mergedTypes(partials);
  const keyInfos: ColumnInfo[] = query.groupBy.map((name, j) => {
    const info = describeType(types.get(keyName(j))!);
    if (!info)
      throw new KernelError(
        `partial key column ${keyName(j)} (${name}) has an unexpected type`,
        name,
      );
    return info;
  });
  const keys = new GroupKeys(keyInfos);
  const accumulators = query.aggregates.map((agg, i) => mergeAccumulator(agg, i, types));
  let groups = new Int32Array(0);
  for (const table of partials) {
    const index = new Map(table.schema.fields.map((field, i) => [field.name, i]));
    for (const batch of table.batches) {
      const count = batch.numRows;
      if (count === 0) continue;
      if (groups.length < count) groups = new Int32Array(count);
      const column = (name: string): Data => batch.data.children[index.get(name)!]!;
      keys.assign(
        keyInfos.map((info, j) => viewOf(column(keyName(j)), info)),
        null,
        count,
        groups,
      );
      for (const accumulator of accumulators) {
        accumulator.reserve(keys.size);
        accumulator.merge(column, groups, count);
      }
    }
  }
  const size = keys.size;
  const columns = [...keys.build(null, size)];
  for (const accumulator of accumulators) {
    accumulator.reserve(size);
    columns.push(accumulator.final(size));
  }
  const names = [...query.groupBy, ...query.aggregates.map(aggregateName)];
  return tableOf(
    names.map((name, i) => new Field(name, columns[i]!.type, true)),
    columns,
    size,
  );
}
