/** Which row groups part `index` of `of` of a Parquet file reads: contiguous, covering each group once. */

/** Row groups `[start, end)` of part `index` of `of`, out of `count`. */
export function rowGroupRange(
  count: number,
  part?: { index: number; of: number },
): { start: number; end: number } {
  if (!part) return { start: 0, end: count };
  if (!(part.of >= 1) || part.index < 0 || part.index >= part.of) {
    throw new RangeError(`part ${part.index} of ${part.of} does not exist`);
  }
  return {
    start: Math.floor((part.index * count) / part.of),
    end: Math.floor(((part.index + 1) * count) / part.of),
  };
}
