/**
 * The row loops of sum and avg: a running sum and a NULL count per group (its non-NULL values
 * are its rows, which group-rows.ts counts once for every aggregate, less its NULLs). There are
 * two copies, `sumFloats` for float-sum.ts and `sumIntegers` for int-sum.ts, on purpose: one shared
 * function sees Float64Array and Int32Array values in the same query, and V8's polymorphic element
 * access then costs ~2.5 ms per 1M rows (measured on the sales benchmark's by-region query).
 */
import type { NumArray } from './column-view.ts';

/**
 * Adds `values` of rows `from` to `to` (rows `rows[k]` when filtered) into `sums[groups[k]]`;
 * a NULL row is counted in `nulls[groups[k]]` instead. Four rows an iteration where no row can be
 * NULL (see "Hot loops" in README.md).
 */
export function sumFloats(
  sums: Float64Array,
  nulls: Float64Array,
  values: NumArray,
  valid: Uint8Array | null,
  rows: Int32Array | null,
  groups: Int32Array,
  from: number,
  to: number,
): void {
  let k = from;
  if (valid === null && rows === null) {
    for (; k + 3 < to; k += 4) {
      const g0 = groups[k]!;
      const g1 = groups[k + 1]!;
      const g2 = groups[k + 2]!;
      const g3 = groups[k + 3]!;
      sums[g0]! += values[k]!;
      sums[g1]! += values[k + 1]!;
      sums[g2]! += values[k + 2]!;
      sums[g3]! += values[k + 3]!;
    }
  } else if (valid === null && rows !== null) {
    for (; k + 3 < to; k += 4) {
      const g0 = groups[k]!;
      const g1 = groups[k + 1]!;
      const g2 = groups[k + 2]!;
      const g3 = groups[k + 3]!;
      sums[g0]! += values[rows[k]!]!;
      sums[g1]! += values[rows[k + 1]!]!;
      sums[g2]! += values[rows[k + 2]!]!;
      sums[g3]! += values[rows[k + 3]!]!;
    }
  }
  for (; k < to; k++) {
    const row = rows === null ? k : rows[k]!;
    const group = groups[k]!;
    if (valid !== null && valid[row] === 0) nulls[group]!++;
    else sums[group]! += values[row]!;
  }
}

/** `sumFloats` for integer values (a copy: see above). */
export function sumIntegers(
  sums: Float64Array,
  nulls: Float64Array,
  values: NumArray,
  valid: Uint8Array | null,
  rows: Int32Array | null,
  groups: Int32Array,
  from: number,
  to: number,
): void {
  let k = from;
  if (valid === null && rows === null) {
    for (; k + 3 < to; k += 4) {
      const g0 = groups[k]!;
      const g1 = groups[k + 1]!;
      const g2 = groups[k + 2]!;
      const g3 = groups[k + 3]!;
      sums[g0]! += values[k]!;
      sums[g1]! += values[k + 1]!;
      sums[g2]! += values[k + 2]!;
      sums[g3]! += values[k + 3]!;
    }
  } else if (valid === null && rows !== null) {
    for (; k + 3 < to; k += 4) {
      const g0 = groups[k]!;
      const g1 = groups[k + 1]!;
      const g2 = groups[k + 2]!;
      const g3 = groups[k + 3]!;
      sums[g0]! += values[rows[k]!]!;
      sums[g1]! += values[rows[k + 1]!]!;
      sums[g2]! += values[rows[k + 2]!]!;
      sums[g3]! += values[rows[k + 3]!]!;
    }
  }
  for (; k < to; k++) {
    const row = rows === null ? k : rows[k]!;
    const group = groups[k]!;
    if (valid !== null && valid[row] === 0) nulls[group]!++;
    else sums[group]! += values[row]!;
  }
}
