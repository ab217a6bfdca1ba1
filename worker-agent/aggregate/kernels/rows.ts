/** The row-index vector 0, 1, 2, ... that loops over every row of a batch read through. */

let rows = new Int32Array(0);

/** 0, 1, ..., count - 1 (at least; shared, so callers must not write to it). */
export function identity(count: number): Int32Array {
  if (rows.length < count) {
    rows = new Int32Array(Math.max(count, rows.length * 2));
    for (let i = 0; i < rows.length; i++) rows[i] = i;
  }
  return rows;
}
