/** Sorting result rows as DuckDB's ORDER BY does: NULLs last in both directions, NaN above numbers, strings by code point. */
import { DataType, type Table, type Vector } from 'apache-arrow';
import type { OrderBy } from '../../../protocol/index.ts';
import { compareCodePoints } from './bytes-compare.ts';
import { KernelError } from './errors.ts';

type SortValue = number | bigint | string | boolean | null;

/** Every row's value of a column, exactly: 64-bit values as bigints read from the buffers. */
function sortValues(vector: Vector): SortValue[] {
  const out: SortValue[] = [];
  const type = vector.type as DataType;
  for (const data of vector.data) {
    const values = data.values as unknown;
    const raw = values instanceof BigInt64Array || values instanceof BigUint64Array ? values : null;
    for (let i = 0; i < data.length; i++) {
      if (!data.getValid(i)) out.push(null);
      else if (raw !== null && !DataType.isDecimal(type)) out.push(raw[i]!);
      else {
        const value = vector.get(out.length) as unknown;
        out.push(
          typeof value === 'number' ||
            typeof value === 'bigint' ||
            typeof value === 'string' ||
            typeof value === 'boolean'
            ? value
            : String(value),
        );
      }
    }
  }
  return out;
}

function compareValues(a: Exclude<SortValue, null>, b: Exclude<SortValue, null>): number {
  if (typeof a === 'string' && typeof b === 'string') return compareCodePoints(a, b);
  if (typeof a === 'number' && typeof b === 'number' && (a !== a || b !== b))
    return a !== a ? (b !== b ? 0 : 1) : -1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Row indices of `table` in the order `orderBy` asks for (stable: ties keep their order). */
export function sortedRows(table: Table, orderBy: readonly OrderBy[]): number[] {
  const names = table.schema.fields.map((field) => field.name);
  const keys = orderBy.map((order) => {
    const index = names.indexOf(order.column);
    if (index < 0) {
      throw new KernelError(
        `unknown orderBy column "${order.column}" (result columns: ${names.join(', ')})`,
        order.column,
      );
    }
    return { values: sortValues(table.getChildAt(index)!), sign: order.desc ? -1 : 1 };
  });
  const rows = Array.from({ length: table.numRows }, (_, i) => i);
  return rows.sort((x, y) => {
    for (const { values, sign } of keys) {
      const a = values[x]!;
      const b = values[y]!;
      if (a === null || b === null) {
        if (a === b) continue;
        return a === null ? 1 : -1;
      }
      const order = compareValues(a, b);
      if (order !== 0) return sign * order;
    }
    return 0;
  });
}
