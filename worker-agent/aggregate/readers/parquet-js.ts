/**
 * The JavaScript reader's side of a Parquet read: for each run of row groups (up to RUN_BYTES),
 * only the column chunks of its leaves, the next run fetched while the current one decodes. A
 * caller that reuses buffers has each run read into one of two sets of buffers, in turn: nothing
 * decoded keeps a view of a run's bytes, and the run two ahead is fetched only once the caller has
 * had every batch of this one.
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
  const lend = context.reuseBuffers ? new Lender() : null;
  const fetchRun = (run: number[], index: number) =>
    Promise.all(
      groupSpans(meta, run, leaves).map(async (span, s) => {
        const lent = lend?.buffer(index % 2, s, span.end - span.start);
        const bytes = await read(span.start, span.end, lent);
        if (lent) lend!.returned(lent, bytes);
        if (bytes.length !== span.end - span.start) {
          throw context.fail('format', `the object ended at byte ${span.start + bytes.length}`);
        }
        return { span, bytes };
      }),
    );
  const runs = fetchRuns(meta, groups, leaves, RUN_BYTES);
  const arrays = context.reuseBuffers ? leaves.map((_, lane) => reusedArrays(lane)) : undefined;
  let next = runs.length > 0 ? fetchRun(runs[0]!, 0) : null;
  for (let index = 0; index < runs.length; index++) {
    const fetched = await next!;
    next = index + 1 < runs.length ? fetchRun(runs[index + 1]!, index + 1) : null;
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

/** Two sets of buffers, one per span of a run, lent to the store while it keeps using them. */
class Lender {
  private sets: Uint8Array[][] | null = [[], []];

  /** Buffer `span` of set `set` (0 or 1), of at least `bytes` (grown afresh); none once refused. */
  buffer(set: number, span: number, bytes: number): Uint8Array | undefined {
    if (!this.sets) return undefined;
    const held = this.sets[set]![span];
    if (held && held.length >= bytes) return held;
    return (this.sets[set]![span] = new Uint8Array(bytes));
  }

  /** A store that answered in an array of its own does not take loans: none is made again. */
  returned(lent: Uint8Array, bytes: Uint8Array): void {
    if (bytes.buffer !== lent.buffer) this.sets = null;
  }
}
