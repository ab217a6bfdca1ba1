/** The final step: concatenate the partitions' results, order them, and keep the first `limit` rows. */
import type { Table } from 'apache-arrow';
import type { OrderBy } from '../../../protocol/index.ts';
import { concatTables } from './concat-tables.ts';
import { gatherRows } from './gather.ts';
import { sortedRows } from './row-order.ts';

export function finalizeResult(
  tables: readonly Table[],
  orderBy?: readonly OrderBy[],
  limit?: number,
): Table {
  const table = concatTables(tables);
  if (orderBy !== undefined && orderBy.length > 0) {
    const rows = sortedRows(table, orderBy);
    return gatherRows(table, limit === undefined ? rows : rows.slice(0, limit));
  }
  if (limit === undefined || limit >= table.numRows) return table;
  return gatherRows(
    table,
    Array.from({ length: limit }, (_, i) => i),
  );
}
