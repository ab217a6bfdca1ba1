/**
 * The map side's rows per group, counted in one pass per batch for all of a query's aggregates:
 * count(*) is these counts, and sum and avg count only the NULLs of their column (its non-NULL
 * values in a group are the group's rows less those). A by-region query of count(*), sum and avg
 * so makes one counting pass a row where it made three.
 */
import { grow } from './growth.ts';

/** `counts[groups[k]]` + 1 for each of `count` rows, four an iteration (see "Hot loops" in README.md). */
export function countRows(counts: Float64Array, groups: Int32Array, count: number): void {
  let k = 0;
  for (; k + 3 < count; k += 4) {
    counts[groups[k]!]!++;
    counts[groups[k + 1]!]!++;
    counts[groups[k + 2]!]!++;
    counts[groups[k + 3]!]!++;
  }
  for (; k < count; k++) counts[groups[k]!]!++;
}

export class GroupRows {
  /** Exact as doubles: counts stay far below 2^53. */
  rows: Float64Array = new Float64Array(16);

  reserve(groups: number): void {
    this.rows = grow(this.rows, groups);
  }

  /** Counts a batch's rows: row k is in group `groups[k]`. */
  add(groups: Int32Array, count: number): void {
    countRows(this.rows, groups, count);
  }

  /**
   * `counts[g]` = the rows of group g less `nulls[g]`, for groups below `groups`: a column's
   * non-NULL values per group.
   */
  nonNull(nulls: Float64Array, counts: Float64Array, groups: number): void {
    const rows = this.rows;
    for (let group = 0; group < groups; group++) counts[group] = rows[group]! - nulls[group]!;
  }
}

/**
 * A column's non-NULL values per group, for sum and avg: on the map side (given the GroupRows)
 * the group's rows less the NULLs its row loop counted, on the reduce side the partials' counts
 * added up in `counts`.
 */
export class NonNullCounts {
  counts: Float64Array = new Float64Array(16);
  private nulls: Float64Array = new Float64Array(16);
  private size = 0;
  /** Rows or NULLs were counted since `counts` was last brought up to date. */
  private stale = false;

  constructor(private readonly rows: GroupRows | null) {}

  reserve(groups: number): void {
    if (groups > this.size) [this.size, this.stale] = [groups, true];
    this.counts = grow(this.counts, groups);
    if (this.rows) this.nulls = grow(this.nulls, groups);
  }

  /** The NULLs per group, for a batch's row loop to count into (map side). */
  tally(): Float64Array {
    this.stale = true;
    return this.nulls;
  }

  /**
   * The counts, brought up to date from the rows and NULLs on the map side once after the last
   * batch, not again for each partition's partial.
   */
  current(): Float64Array {
    if (this.rows && this.stale) {
      this.rows.nonNull(this.nulls, this.counts, this.size);
      this.stale = false;
    }
    return this.counts;
  }
}
