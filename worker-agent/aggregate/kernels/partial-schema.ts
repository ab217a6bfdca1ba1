/** The partial table a map task writes per partition and a reduce task merges: its columns and checks. */
import { Data, Field, Int64, List, Null, type Table } from 'apache-arrow';
import type { AggregateQuery } from '../../../protocol/index.ts';
import { fixedData, tableOf } from './arrow-build.ts';
import { KernelError } from './errors.ts';

/*
 * One row per group. Schema metadata `tm.aggregate.partial` = "1". Columns, in this order:
 *
 * - `k{j}` for group-by column j: the key, in its result type (dictionary strings as Utf8/LargeUtf8,
 *   decimals as Float64, everything else as read), NULL for the NULL group.
 * - then per aggregate i, by op:
 *   - count / count(*): `c{i}` Int64, rows (or non-NULL values) counted.
 *   - sum, avg: `s{i}` the sum of the non-NULL values and `n{i}` Int64 their number. `s{i}` is
 *     Decimal128(38, 0) (an exact 128-bit integer sum) for integer columns, else Float64. It is 0 when
 *     `n{i}` is 0; the final value is then NULL.
 *   - min, max: `m{i}` in the column's result type, NULL when the group had no non-NULL value.
 *   - count_distinct: `d{i}` List of the group's distinct non-NULL values (result type), never NULL.
 *
 * A map task that saw no batch at all (no schema) still writes the global group of a query without
 * group-by: counts 0 and NULL-typed `s{i}`, `m{i}` and `d{i}` items. Merging takes a column's type from
 * the partials that have one and reads NULL-typed columns as all NULL.
 */

export const PARTIAL_METADATA_KEY = 'tm.aggregate.partial';
const PARTIAL_VERSION = '1';

export const keyName = (j: number) => `k${j}`;
export const countName = (i: number) => `c${i}`;
export const sumName = (i: number) => `s${i}`;
export const nonNullName = (i: number) => `n${i}`;
export const extremeName = (i: number) => `m${i}`;
export const distinctName = (i: number) => `d${i}`;

export function partialMetadata(): Map<string, string> {
  return new Map([[PARTIAL_METADATA_KEY, PARTIAL_VERSION]]);
}

/** The partial columns of one aggregate, by op. */
export function aggregateColumnNames(
  op: AggregateQuery['aggregates'][number]['op'],
  i: number,
): string[] {
  switch (op) {
    case 'count':
      return [countName(i)];
    case 'sum':
    case 'avg':
      return [sumName(i), nonNullName(i)];
    case 'min':
    case 'max':
      return [extremeName(i)];
    case 'count_distinct':
      return [distinctName(i)];
  }
}

export function partialColumnNames(query: AggregateQuery): string[] {
  return [
    ...query.groupBy.map((_, j) => keyName(j)),
    ...query.aggregates.flatMap((agg, i) => aggregateColumnNames(agg.op, i)),
  ];
}

/** Throws unless `table` is a partial of this query. */
export function checkPartial(query: AggregateQuery, table: Table): void {
  if (table.schema.metadata.get(PARTIAL_METADATA_KEY) !== PARTIAL_VERSION) {
    throw new KernelError(
      `not an aggregation partial (no ${PARTIAL_METADATA_KEY}=${PARTIAL_VERSION} in its schema)`,
    );
  }
  const expected = partialColumnNames(query).join(', ');
  const actual = table.schema.fields.map((field) => field.name).join(', ');
  if (expected !== actual)
    throw new KernelError(
      `the partial does not match the query: columns [${actual}], expected [${expected}]`,
    );
}

/** The one-row partial of the global group when a map task read nothing (and so knows no column types). */
export function emptyGlobalPartial(query: AggregateQuery): Table {
  const fields: Field[] = [];
  const columns: Data[] = [];
  const zero = () => fixedData(new Int64(), new BigInt64Array(1), 1);
  const nullColumn = () => new Data(new Null(), 0, 1, 1);
  query.aggregates.forEach((agg, i) => {
    for (const name of aggregateColumnNames(agg.op, i)) {
      if (name === countName(i) || name === nonNullName(i)) {
        fields.push(new Field(name, new Int64(), false));
        columns.push(zero());
      } else if (name === distinctName(i)) {
        const type = new List(new Field('item', new Null(), true));
        fields.push(new Field(name, type, false));
        columns.push(new Data(type, 0, 1, 0, [new Int32Array(2)], [new Data(new Null(), 0, 0, 0)]));
      } else {
        fields.push(new Field(name, new Null(), true));
        columns.push(nullColumn());
      }
    }
  });
  return tableOf(fields, columns, 1, partialMetadata());
}
