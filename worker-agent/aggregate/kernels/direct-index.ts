/** A direct-mapped cache from small integer key values to group ids (DuckDB's "perfect hash" idea). */

/** The widest window of key values kept (4 MB of group ids). */
const MAX_WINDOW = 1 << 20;

export class DirectIndex {
  /** The key value of slot 0. */
  base = 0;
  /** The group of each key value in the window, -1 until looked up. */
  groups: Int32Array = new Int32Array(0);

  /** Widens the window to cover [min, max] (keeping what it knows) unless it would grow too wide. */
  cover(min: number, max: number): boolean {
    const { base, groups } = this;
    if (groups.length > 0 && min >= base && max < base + groups.length) return true;
    const low = groups.length > 0 ? Math.min(min, base) : min;
    const high = groups.length > 0 ? Math.max(max, base + groups.length - 1) : max;
    if (high - low + 1 > MAX_WINDOW) return false;
    const next = new Int32Array(high - low + 1).fill(-1);
    if (groups.length > 0) next.set(groups, base - low);
    this.base = low;
    this.groups = next;
    return true;
  }
}
