/** Pure block arithmetic of the block cache: which blocks cover a range, and which runs to fetch. */
import type { ByteRange } from './store.ts';

/** Consecutive blocks `first..last` (inclusive). */
export interface BlockRun {
  first: number;
  last: number;
}

/** The bytes of block `index` of an object of `size` bytes; the last block may be short. */
export function blockSpan(index: number, size: number, blockBytes: number): ByteRange {
  const start = index * blockBytes;
  return { start, end: Math.min(size, start + blockBytes) };
}

/** The blocks holding `range` (non-empty), or null for an empty range. */
export function blocksCovering(range: ByteRange, blockBytes: number): BlockRun | null {
  if (range.end <= range.start) return null;
  return {
    first: Math.floor(range.start / blockBytes),
    last: Math.floor((range.end - 1) / blockBytes),
  };
}

/** Sorted block indexes as runs of consecutive ones: [1, 2, 3, 7, 9, 10] → 1..3, 7..7, 9..10. */
export function runsOf(indexes: readonly number[]): BlockRun[] {
  const runs: BlockRun[] = [];
  for (const index of indexes) {
    const last = runs[runs.length - 1];
    if (last && index === last.last + 1) last.last = index;
    else runs.push({ first: index, last: index });
  }
  return runs;
}

/** The file name of an extent: the run of blocks it holds, `first-last`. */
export const extentName = (run: BlockRun) => `${run.first}-${run.last}`;

/** The run of blocks an extent file holds, or null for another file (a temp file, say). */
export function parseExtent(name: string): BlockRun | null {
  const match = /^(\d+)-(\d+)$/.exec(name);
  if (!match) return null;
  const run = { first: Number(match[1]), last: Number(match[2]) };
  return run.first <= run.last ? run : null;
}

/** Of `extents`, the one holding block `index` that reaches furthest, or undefined. */
export function extentHolding(extents: readonly BlockRun[], index: number): BlockRun | undefined {
  let best: BlockRun | undefined;
  for (const extent of extents)
    if (extent.first <= index && index <= extent.last && (!best || extent.last > best.last))
      best = extent;
  return best;
}

/** The bytes of blocks `first..last`, as one request. */
export function runSpan(run: BlockRun, size: number, blockBytes: number): ByteRange {
  return {
    start: blockSpan(run.first, size, blockBytes).start,
    end: blockSpan(run.last, size, blockBytes).end,
  };
}

/**
 * `range` (the whole object when absent) within `[0, size)`. Throws RangeError for what the store
 * would reject too: negative, fractional or reversed bounds.
 */
export function clampRange(range: ByteRange | undefined, size: number): ByteRange {
  if (range === undefined) return { start: 0, end: size };
  const { start, end } = range;
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start) {
    throw new RangeError(`invalid byte range [${start}, ${end})`);
  }
  return { start: Math.min(start, size), end: Math.min(end, size) };
}

/**
 * Splits `range` into windows of about `windowBytes` that end on block boundaries, so that no block
 * is part of two windows (it would be fetched by one and counted as a cache hit by the next).
 */
export function windowsOf(range: ByteRange, blockBytes: number, windowBytes: number): ByteRange[] {
  const step = Math.max(1, Math.floor(windowBytes / blockBytes)) * blockBytes;
  const windows: ByteRange[] = [];
  for (let start = range.start; start < range.end;) {
    const end = Math.min(range.end, Math.floor(start / blockBytes) * blockBytes + step);
    windows.push({ start, end });
    start = end;
  }
  return windows;
}
