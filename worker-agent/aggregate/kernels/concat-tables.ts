/** Concatenates reduce outputs into one table, filling columns a partition left NULL-typed with typed NULLs. */
import { DataType, Field, RecordBatch, Schema, Struct, Table, Data } from 'apache-arrow';
import { nullData, sameType } from './arrow-build.ts';
import { KernelError } from './errors.ts';

/** The richest type of each column: the first that is not NULL-typed. */
function commonSchema(tables: readonly Table[]): Schema {
  const first = tables[0]!.schema;
  const fields = first.fields.map((field, i) => {
    const typed = tables.find((table) => !DataType.isNull(table.schema.fields[i]?.type));
    return typed ? new Field(field.name, typed.schema.fields[i]!.type, true) : field;
  });
  return new Schema(fields, first.metadata);
}

export function concatTables(tables: readonly Table[]): Table {
  if (tables.length === 0) throw new KernelError('no result tables to combine');
  const schema = commonSchema(tables);
  const batches: RecordBatch[] = [];
  for (const table of tables) {
    const fields = table.schema.fields;
    if (
      fields.length !== schema.fields.length ||
      fields.some((field, i) => field.name !== schema.fields[i]!.name)
    ) {
      throw new KernelError(
        `result tables disagree on their columns: [${fields.map((f) => f.name).join(', ')}]`,
      );
    }
    for (const batch of table.batches) {
      if (batch.numRows === 0) continue;
      const children = batch.data.children.map((child, i) => {
        const type = schema.fields[i]!.type as DataType;
        if (sameType(child.type, type)) return child;
        if (DataType.isNull(child.type)) return nullData(type, child.length);
        throw new KernelError(
          `result tables disagree on the type of ${schema.fields[i]!.name}: ${String(type)} and ${String(child.type)}`,
        );
      });
      batches.push(
        new RecordBatch(
          schema,
          new Data(new Struct(schema.fields), 0, batch.numRows, 0, undefined, children),
        ),
      );
    }
  }
  return batches.length > 0 ? new Table(batches) : new Table(schema);
}
