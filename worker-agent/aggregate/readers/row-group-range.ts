/**
 * Which row groups part `index` of `of` of a Parquet file reads: contiguous, covering each group
 * once, with about equal bytes per part. Both Parquet readers call it with the footer's sizes, so
 * the parts of one file agree whichever reader reads each.
 */

/**
 * Row groups `[start, end)` of part `index` of `of`, given each group's compressed bytes: a group
 * belongs to the part its middle byte falls in (as Hadoop splits Parquet), by count when the
 * sizes are all zero.
 */
export function rowGroupRange(
  groupBytes: readonly number[],
  part?: { index: number; of: number },
): { start: number; end: number } {
  const count = groupBytes.length;
  if (!part) return { start: 0, end: count };
  if (!(part.of >= 1) || part.index < 0 || part.index >= part.of) {
    throw new RangeError(`part ${part.index} of ${part.of} does not exist`);
  }
  const byBytes = groupBytes.some((bytes) => bytes > 0);
  const weights = byBytes ? groupBytes : groupBytes.map(() => 1);
  const total = weights.reduce((sum, bytes) => sum + bytes, 0);
  let start = 0;
  let end = 0;
  let before = 0;
  for (const bytes of weights) {
    // Owners never decrease along the file, so the groups of each part are contiguous.
    const owner = Math.min(part.of - 1, Math.floor(((before + bytes / 2) * part.of) / total));
    if (owner < part.index) start++;
    if (owner <= part.index) end++;
    before += bytes;
  }
  return { start, end };
}
