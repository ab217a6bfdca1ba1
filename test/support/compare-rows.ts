/** Result rows made comparable with DuckDB's: values normalized, rows in a canonical order. */

/** Values made comparable: integers as strings, other numbers to 10 significant digits, no `Z`. */
export function normalize(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number')
    return Number.isInteger(value) ? String(value) : Number(value.toPrecision(10));
  if (typeof value === 'string' && /^-?\d+\.\d+$/.test(value))
    return Number(Number(value).toPrecision(10));
  if (typeof value === 'string' && /^\d{4}-\d\d-\d\dT.*Z$/.test(value)) return value.slice(0, -1);
  return value;
}

/** Rows normalized and sorted, so results compare whatever order they came in. */
export const canonical = (rows: readonly unknown[][]) =>
  rows
    .map((row) => row.map(normalize))
    .sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));
