/** A direct-mapped cache from small integer values to their codes (DuckDB's "perfect hash" idea). */

/** The widest window of key values kept (4 MB of codes). */
const MAX_WINDOW = 1 << 20;

export class DirectIndex {
  /** The key value of slot 0. */
  base = 0;
  /** The code of each value in the window, -1 until looked up. */
  codes: Int32Array = new Int32Array(0);

  /** Widens the window to cover [min, max] (keeping what it knows) unless it would grow too wide. */
  cover(min: number, max: number): boolean {
    const { base, codes } = this;
    if (codes.length > 0 && min >= base && max < base + codes.length) return true;
    const low = codes.length > 0 ? Math.min(min, base) : min;
    const high = codes.length > 0 ? Math.max(max, base + codes.length - 1) : max;
    if (high - low + 1 > MAX_WINDOW) return false;
    const next = new Int32Array(high - low + 1).fill(-1);
    if (codes.length > 0) next.set(codes, base - low);
    this.base = low;
    this.codes = next;
    return true;
  }
}
