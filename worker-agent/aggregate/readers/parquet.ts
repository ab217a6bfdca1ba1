/**
 * Reads a Parquet object's row groups through range requests, fetching only the columns the query
 * needs and the next row group while the current one decodes. Files with features the JavaScript
 * reader does not decode go to parquet-wasm instead (decided from the footer, before any row).
 */
import type { RecordBatch } from 'apache-arrow';
import type { InputSplit } from '../../../protocol/aggregate.ts';
import { errorMessage } from './errors.ts';
import { ParquetFormatError } from './parquet/errors.ts';
import { NotParquetError, readFooter, type ReadRange } from './parquet/footer.ts';
import { reusedArrays } from './parquet/column-arrays.ts';
import type { ParquetMetadata } from './parquet/metadata.ts';
import { decodeRowGroup, fetchRuns, groupSpans, unsupportedReason } from './parquet/row-group.ts';
import { readParquetWasm } from './parquet-wasm.ts';
import { slices, type ReadContext } from './read-context.ts';
import { rowGroupRange } from './row-group-range.ts';

/** Most bytes fetched in one run of row groups (and so held at once, twice with the read-ahead). */
const RUN_BYTES = 4 * 1024 * 1024;

/** What reading the footer needs of a read context. */
type FooterContext = Pick<ReadContext, 'store' | 'key' | 'signal' | 'countBytes' | 'fail'>;

/** A range reader of the object that counts what it reads. */
function rangeReader(context: FooterContext): ReadRange {
  const options = context.signal ? { signal: context.signal } : {};
  return async (start, end) => {
    const bytes = await context.store.get(context.key, { start, end }, options);
    context.countBytes(bytes.byteLength);
    return bytes;
  };
}

/** The object's metadata, with the reader's errors for objects that are empty, not Parquet or corrupt. */
export async function parquetMetadata(context: FooterContext): Promise<ParquetMetadata> {
  const options = context.signal ? { signal: context.signal } : {};
  const { size } = await context.store.head(context.key, options);
  if (size === 0) throw context.fail('empty', 'the object is empty');
  try {
    return await readFooter(rangeReader(context), size);
  } catch (error) {
    if (error instanceof NotParquetError) throw context.fail('format', error.message);
    if (error instanceof ParquetFormatError) {
      throw context.fail('format', `corrupt Parquet metadata: ${error.message}`);
    }
    throw error;
  }
}

/** Row groups `split.part` selects (all without a part), in batches of at most `batchRows`. */
export async function* readParquet(
  context: ReadContext,
  split: InputSplit,
): AsyncGenerator<RecordBatch> {
  const meta = await parquetMetadata(context);
  const groups = rowGroupRange(
    meta.groups.map((group) => group.bytes),
    split.part,
  );
  const columns = projection(meta.columns, context.columns);
  const leaves = meta.leaves.flatMap((leaf, index) =>
    !columns || columns.includes(leaf.name) ? [index] : [],
  );
  if (unsupportedReason(meta, leaves, groups) !== null) {
    yield* readParquetWasm(context, split, columns, { meta, groups, leaves });
    return;
  }
  const read = rangeReader(context);
  const fetchRun = (run: number[]) =>
    Promise.all(
      groupSpans(meta, run, leaves).map(async (span) => {
        const bytes = await read(span.start, span.end);
        if (bytes.length !== span.end - span.start) {
          throw context.fail('format', `the object ended at byte ${span.start + bytes.length}`);
        }
        return { span, bytes };
      }),
    );
  const runs = fetchRuns(meta, groups, leaves, RUN_BYTES);
  const arrays = context.reuseBuffers ? leaves.map(() => reusedArrays()) : undefined;
  let next = runs.length > 0 ? fetchRun(runs[0]!) : null;
  for (let index = 0; index < runs.length; index++) {
    const fetched = await next!;
    next = index + 1 < runs.length ? fetchRun(runs[index + 1]!) : null;
    // Read ahead: if this generator ends early, the fetch's failure must not go unhandled.
    next?.catch(() => undefined);
    for (const group of runs[index]!) {
      context.signal?.throwIfAborted();
      let batches: RecordBatch[];
      try {
        batches = [...decodeRowGroup(meta, group, leaves, fetched, context.batchRows, arrays)];
      } catch (error) {
        if (!(error instanceof ParquetFormatError)) throw error;
        throw context.fail('format', `row group ${group} is corrupt: ${errorMessage(error)}`);
      }
      for (const batch of batches) yield* slices(batch, context.batchRows);
    }
  }
}

/**
 * The file's columns the query needs (all when it did not say). A name the file lacks is kept out
 * of the projection so the aggregation itself reports it; a query that needs no column (a bare
 * count) still reads the first one, for the row count.
 */
export function projection(
  fileColumns: readonly string[],
  wanted: readonly string[] | undefined,
): string[] | undefined {
  if (!wanted) return undefined;
  const present = fileColumns.filter((column) => wanted.includes(column));
  if (present.length > 0) return present;
  return fileColumns.slice(0, 1);
}
