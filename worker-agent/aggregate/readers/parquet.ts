/**
 * Reads a Parquet object's row groups: the footer by range requests, then each column the query
 * needs by the JavaScript reader (parquet-js.ts) or, for features it does not decode, parquet-wasm
 * (decided from the footer, before any row); columns neither reads right are refused, named.
 */
import type { RecordBatch } from 'apache-arrow';
import type { InputSplit } from '../../../protocol/aggregate.ts';
import { ParquetFormatError, ParquetUnsupportedError } from './parquet/errors.ts';
import { NotParquetError, readFooter, type ReadRange } from './parquet/footer.ts';
import { planColumns, readableColumns } from './parquet/column-plan.ts';
import type { ParquetMetadata } from './parquet/metadata.ts';
import { readParquetJs } from './parquet-js.ts';
import { readParquetWasm } from './parquet-wasm.ts';
import type { ReadContext } from './read-context.ts';
import { rowGroupRange } from './row-group-range.ts';
import { zipBatches } from './zip-batches.ts';

/** What reading the footer needs of a read context. */
type FooterContext = Pick<ReadContext, 'store' | 'key' | 'signal' | 'countBytes' | 'fail'>;

/** A range reader of the object that counts what it reads. */
function rangeReader(context: FooterContext): ReadRange {
  const options = context.signal ? { signal: context.signal } : {};
  return async (start, end, into) => {
    const bytes = await context.store.get(context.key, { start, end }, { ...options, into });
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
    if (error instanceof NotParquetError || error instanceof ParquetUnsupportedError) {
      throw context.fail('format', error.message);
    }
    if (error instanceof ParquetFormatError) {
      throw context.fail('format', `corrupt Parquet metadata: ${error.message}`);
    }
    throw error;
  }
}

/**
 * Row groups `split.part` selects (all without a part), in batches of at most `batchRows`: the
 * columns the JavaScript reader decodes by it, the others by parquet-wasm (every column, with
 * `fallbackOnly`: the conformance test reads each file both ways), joined side by side. A part
 * that selects no row group yields no batch.
 */
export async function* readParquet(
  context: ReadContext,
  split: InputSplit,
  fallbackOnly = false,
): AsyncGenerator<RecordBatch> {
  const meta = await parquetMetadata(context);
  const groups = rowGroupRange(
    meta.groups.map((group) => group.bytes),
    split.part,
  );
  const columns = projection(meta.columns, context.columns, readableColumns(meta));
  const leaves = meta.leaves.flatMap((leaf, index) =>
    !columns || columns.includes(leaf.name) ? [index] : [],
  );
  const plan = planColumns(meta, leaves, groups);
  if (plan.refusal) throw context.fail('format', plan.refusal);
  // A part the planner cut from the file's size alone may own no row group: nothing to read (nor
  // to download, for parquet-wasm).
  if (groups.start === groups.end) return;
  const names = (of: readonly number[]) => [...new Set(of.map((leaf) => meta.leaves[leaf]!.name))];
  const wasm = (of: readonly number[]) =>
    readParquetWasm(context, names(of), { meta, groups, leaves: of });
  if (fallbackOnly || plan.fast.length === 0) {
    yield* wasm(leaves);
    return;
  }
  const js = readParquetJs(context, rangeReader(context), meta, groups, plan.fast);
  if (plan.fallback.length === 0) yield* js;
  else yield* zipBatches([js, wasm(plan.fallback)], names(leaves));
}

/**
 * The file's columns the query needs (all when it did not say). A name the file lacks is kept out
 * of the projection so the aggregation itself reports it; a query that needs no column (a bare
 * count) still reads one, for the row count: the first that some reader reads.
 */
export function projection(
  fileColumns: readonly string[],
  wanted: readonly string[] | undefined,
  readable: readonly string[] = fileColumns,
): string[] | undefined {
  if (!wanted) return undefined;
  const present = fileColumns.filter((column) => wanted.includes(column));
  if (present.length > 0) return present;
  return (readable.length > 0 ? readable : fileColumns).slice(0, 1);
}
