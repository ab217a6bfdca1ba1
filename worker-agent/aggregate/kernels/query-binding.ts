/** A query checked against an input schema: the columns it reads, its filters, and which aggregate reads what. */
import { DataType, type Schema } from 'apache-arrow';
import { aggregateName, type AggregateQuery } from '../../../protocol/index.ts';
import { sameType } from './arrow-build.ts';
import { describeType, isNumeric, type ColumnInfo } from './column-types.ts';
import { KernelError } from './errors.ts';
import { compileFilter, type Narrow } from './filter.ts';

export interface BoundColumn {
  readonly name: string;
  /** Position in the batch's schema. */
  readonly index: number;
  readonly info: ColumnInfo;
}

export interface BoundQuery {
  /** Every column the query reads, once; the others refer to them by slot. */
  readonly columns: readonly BoundColumn[];
  readonly keySlots: readonly number[];
  readonly filters: readonly { slot: number; narrow: Narrow }[];
  /** Per aggregate: the slot of its column (null for count(*)). */
  readonly aggregateSlots: readonly (number | null)[];
}

function typeName(type: DataType): string {
  return DataType.isDictionary(type) ? `Dictionary<${String(type.dictionary)}>` : String(type);
}

function resolve(schema: Schema, name: string): BoundColumn {
  const index = schema.fields.findIndex((field) => field.name === name);
  if (index < 0) {
    const available = schema.fields.map((field) => field.name).join(', ');
    throw new KernelError(`unknown column "${name}" (available columns: ${available})`, name);
  }
  const type = schema.fields[index]!.type as DataType;
  const info = describeType(type);
  if (!info)
    throw new KernelError(
      `column "${name}" has type ${typeName(type)}, which aggregations do not support`,
      name,
    );
  return { name, index, info };
}

/** Binds `query` to `schema`, or throws a KernelError naming the column at fault. */
export function bindQuery(query: AggregateQuery, schema: Schema): BoundQuery {
  const columns: BoundColumn[] = [];
  const slotOf = (name: string): number => {
    const known = columns.findIndex((column) => column.name === name);
    if (known >= 0) return known;
    columns.push(resolve(schema, name));
    return columns.length - 1;
  };
  const keySlots = query.groupBy.map(slotOf);
  const aggregateSlots = query.aggregates.map((agg) => {
    if (agg.column === undefined) return null;
    const slot = slotOf(agg.column);
    const column = columns[slot]!;
    if ((agg.op === 'sum' || agg.op === 'avg') && !isNumeric(column.info)) {
      throw new KernelError(
        `${aggregateName(agg)}: ${agg.op} needs a numeric column, but "${column.name}" is ${typeName(column.info.type)}`,
        column.name,
      );
    }
    return slot;
  });
  const filters = query.filter.map((filter) => {
    const slot = slotOf(filter.column);
    return { slot, narrow: compileFilter(filter, columns[slot]!.info, filter.column) };
  });
  return { columns, keySlots, filters, aggregateSlots };
}

/** The same binding for a later batch's schema, which must give every column the same type. */
export function rebind(bound: BoundQuery, schema: Schema): BoundQuery {
  const columns = bound.columns.map((column) => {
    const next = resolve(schema, column.name);
    if (!sameType(next.info.type, column.info.type)) {
      throw new KernelError(
        `column "${column.name}" changed type from ${typeName(column.info.type)} to ${typeName(next.info.type)} between batches`,
        column.name,
      );
    }
    return { ...column, index: next.index };
  });
  return { ...bound, columns };
}
