/**
 * The JavaScript reader's side of a Parquet read: for each run of row groups (up to RUN_BYTES),
 * only the column chunks of its leaves, the next run fetched while the current one decodes.
 */
import type { RecordBatch } from 'apache-arrow';
import { reusedArrays } from './parquet/column-arrays.ts';
import { ParquetFormatError, rowGroupFailure } from './parquet/errors.ts';
import type { ReadRange } from './parquet/footer.ts';
import type { ParquetMetadata } from './parquet/metadata.ts';
import { decodeRowGroup, fetchRuns, groupSpans } from './parquet/row-group.ts';
import { slices, type ReadContext } from './read-context.ts';

/** Most bytes fetched in one run of row groups (and so held at once, twice with the read-ahead). */
const RUN_BYTES = 4 * 1024 * 1024;

/** Row groups `groups` of `leaves`, decoded by the JavaScript reader, in batches of `batchRows`. */
export async function* readParquetJs(
  context: ReadContext,
  read: ReadRange,
  meta: ParquetMetadata,
  groups: { start: number; end: number },
  leaves: readonly number[],
): AsyncGenerator<RecordBatch> {
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
  const arrays = context.reuseBuffers ? leaves.map((_, lane) => reusedArrays(lane)) : undefined;
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
        throw context.fail('format', rowGroupFailure(group, error));
      }
      for (const batch of batches) yield* slices(batch, context.batchRows);
    }
  }
}
