/** Decodes a row group's projected column chunks from their bytes into record batches. */
import type { RecordBatch } from 'apache-arrow';
import { arrowColumn, recordBatches, valuesFor, type ArrowColumn } from './arrow-columns.ts';
import { codecSupported } from './codecs.ts';
import { freshArrays, type ColumnArrays } from './column-arrays.ts';
import { inColumn, ParquetUnsupportedError } from './errors.ts';
import { Encoding, Physical } from './format.ts';
import { MAX_DECODED_GROUP_BYTES, mib } from './limits.ts';
import type { ParquetColumn, ParquetMetadata } from './metadata.ts';
import { decodeChunk, scanChunk } from './pages.ts';

const ENCODINGS: ReadonlySet<number> = new Set(Object.values(Encoding));

/** Byte ranges to fetch: chunks closer than this are read in one request, gap included. */
const MAX_GAP = 256 * 1024;

export interface Span {
  start: number;
  end: number;
}

/** Why the reader cannot decode these leaves of these row groups itself (null: it can). */
export function unsupportedReason(
  meta: ParquetMetadata,
  leaves: readonly number[],
  groups: { start: number; end: number },
): string | null {
  for (const leaf of leaves) {
    const column = meta.leaves[leaf]!;
    if (!column.type) return `column ${column.name}: ${column.unsupported}`;
    for (let group = groups.start; group < groups.end; group++) {
      const chunk = meta.groups[group]!.chunks[leaf]!;
      if (chunk.external) return `column ${column.name} is in another file`;
      if (!codecSupported(chunk.codec)) return `column ${column.name}: codec ${chunk.codec}`;
      const encoding = chunk.encodings.find((e) => !ENCODINGS.has(e));
      if (encoding !== undefined) return `column ${column.name}: encoding ${encoding}`;
    }
  }
  return null;
}

/** The spans to fetch for `leaves` of row groups `groups`, nearby chunks merged. */
export function groupSpans(
  meta: ParquetMetadata,
  groups: readonly number[],
  leaves: readonly number[],
): Span[] {
  const chunks = groups
    .flatMap((group) => leaves.map((leaf) => meta.groups[group]!.chunks[leaf]!))
    .map((chunk) => ({ start: chunk.start, end: chunk.start + chunk.length }))
    .sort((a, b) => a.start - b.start);
  const spans: Span[] = [];
  for (const chunk of chunks) {
    const last = spans.at(-1);
    if (last && chunk.start - last.end <= MAX_GAP) last.end = Math.max(last.end, chunk.end);
    else spans.push({ ...chunk });
  }
  return spans;
}

/**
 * Row groups `[start, end)` in runs fetched together: consecutive groups join a run while its
 * spans total at most `maxBytes`, so small row groups cost one request, not one each.
 */
export function fetchRuns(
  meta: ParquetMetadata,
  range: { start: number; end: number },
  leaves: readonly number[],
  maxBytes: number,
): number[][] {
  const runs: number[][] = [];
  const bytes = (groups: number[]) =>
    groupSpans(meta, groups, leaves).reduce((sum, span) => sum + span.end - span.start, 0);
  for (let group = range.start; group < range.end; group++) {
    const run = runs.at(-1);
    if (run && bytes([...run, group]) <= maxBytes) run.push(group);
    else runs.push([group]);
  }
  return runs;
}

/**
 * Bytes a row of `column` decodes to at most: its value (a string's dictionary code), validity and
 * definition level, and a dictionary index in scratch.
 */
function bytesPerRow(column: ParquetColumn): number {
  const value =
    column.physical === Physical.BOOLEAN
      ? 1
      : column.physical === Physical.INT64 || column.physical === Physical.DOUBLE
        ? 8
        : 4;
  return value + 4 + (column.optional ? 2 : 0);
}

/**
 * Record batches of row group `group`'s `leaves`, from the fetched `spans` (and their bytes),
 * decoded into each leaf's `arrays` (fresh arrays when none are given). Every chunk's page headers
 * are checked first (scanChunk), and what the group would decode to against
 * MAX_DECODED_GROUP_BYTES, before any array is allocated for its rows.
 */
export function decodeRowGroup(
  meta: ParquetMetadata,
  group: number,
  leaves: readonly number[],
  fetched: ReadonlyArray<{ span: Span; bytes: Uint8Array }>,
  batchRows: number,
  arrays?: readonly ColumnArrays[],
): Generator<RecordBatch> {
  const { rows, chunks } = meta.groups[group]!;
  let decodedBytes = 0;
  const inputs = leaves.map((leaf) => {
    const column = meta.leaves[leaf]!;
    const chunk = chunks[leaf]!;
    const holder = fetched.find(
      ({ span }) => span.start <= chunk.start && chunk.start + chunk.length <= span.end,
    )!;
    const offset = chunk.start - holder.span.start;
    const bytes = holder.bytes.subarray(offset, offset + chunk.length);
    try {
      const { pageBytes } = scanChunk(bytes, chunk.codec, rows);
      decodedBytes +=
        rows * bytesPerRow(column) + (column.physical === Physical.BYTE_ARRAY ? pageBytes : 0);
    } catch (error) {
      throw inColumn(column.name, error);
    }
    return { column, chunk, bytes };
  });
  if (decodedBytes > MAX_DECODED_GROUP_BYTES) {
    throw new ParquetUnsupportedError(
      `its ${rows} rows of ${inputs.map((input) => input.column.name).join(', ')} would decode to ` +
        `${mib(decodedBytes)}, over the reader's limit of ${mib(MAX_DECODED_GROUP_BYTES)} a row group`,
    );
  }
  const columns: ArrowColumn[] = inputs.map(({ column, chunk, bytes }, i) => {
    const into = arrays?.[i] ?? freshArrays;
    try {
      const values = valuesFor(column.physical, rows, into);
      const valid = decodeChunk(
        { bytes, codec: chunk.codec, optional: column.optional, rows, arrays: into },
        values,
      );
      return arrowColumn(column.type!, values, valid);
    } catch (error) {
      throw inColumn(column.name, error);
    }
  });
  return recordBatches(
    leaves.map((leaf) => meta.leaves[leaf]!.name),
    columns,
    rows,
    batchRows,
  );
}
