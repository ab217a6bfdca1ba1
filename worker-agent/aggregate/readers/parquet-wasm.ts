/**
 * Reads a Parquet object with parquet-wasm, row group by row group from a temporary local copy,
 * decoded in a worker: the path for files the JavaScript reader leaves alone (nested columns,
 * other encodings and codecs, FIXED_LEN_BYTE_ARRAY and INT96 values).
 */
import { randomUUID } from 'node:crypto';
import { open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { DataType, tableFromIPC, TimeUnit, type RecordBatch } from 'apache-arrow';
import { errorMessage } from './errors.ts';
import { inColumn, ParquetFormatError, rowGroupFailure } from './parquet/errors.ts';
import { MAX_DECODED_GROUP_BYTES, mib } from './parquet/limits.ts';
import type { ParquetMetadata } from './parquet/metadata.ts';
import { checkPageOutput } from './parquet/output-bound.ts';
import { scanChunk } from './parquet/pages.ts';
import { DecodeError, openParquetDecoder, type ParquetDecoder } from './parquet-decoder.ts';
import { slices, type ReadContext } from './read-context.ts';

const MAGIC = 'PAR1';

/**
 * Checks the PAR1 magic at the start, so parquet-wasm only sees plausible files (the size, the
 * magic at the end and the footer were checked when the footer was read).
 */
async function checkStart(context: ReadContext, file: string): Promise<void> {
  const handle = await open(file, 'r');
  try {
    const head = Buffer.alloc(4);
    await handle.read(head, 0, 4, 0);
    if (head.toString('latin1') !== MAGIC) {
      throw context.fail('format', 'not a Parquet file (no PAR1 magic at the start)');
    }
  } finally {
    await handle.close();
  }
}

/** What the JavaScript reader read of the file before handing it over. */
export interface FallbackPlan {
  meta: ParquetMetadata;
  /** The row groups the split reads. */
  groups: { start: number; end: number };
  /** The leaf columns the query reads. */
  leaves: readonly number[];
}

/**
 * Walks the page headers of every chunk parquet-wasm will decode, in the local copy, before it
 * sees them: every page within its chunk and MAX_PAGE_BYTES, each compressed page bounded by its
 * header (output-bound.ts), a flat column's values adding up to its row group's rows, and what a
 * row group decodes to within MAX_DECODED_GROUP_BYTES. The decoder's WebAssembly memory never
 * shrinks, so nothing a file claims may grow it past these.
 */
async function checkPages(context: ReadContext, file: string, plan: FallbackPlan): Promise<void> {
  const handle = await open(file, 'r');
  try {
    for (let group = plan.groups.start; group < plan.groups.end; group++) {
      const { rows, chunks } = plan.meta.groups[group]!;
      let decoded = 0;
      for (const leaf of plan.leaves) {
        const column = plan.meta.leaves[leaf]!;
        const chunk = chunks[leaf]!;
        if (chunk.external) continue;
        const bytes = Buffer.alloc(chunk.length);
        await handle.read(bytes, 0, chunk.length, chunk.start);
        try {
          const { pageBytes } = scanChunk(bytes, chunk.codec, rows, {
            check: checkPageOutput,
            exactRows: !column.nested,
            entryBytes: 1,
          });
          decoded += rows * 10 + pageBytes;
        } catch (error) {
          if (!(error instanceof ParquetFormatError)) throw error;
          const failure = inColumn(column.name, error) as ParquetFormatError;
          throw context.fail('format', rowGroupFailure(group, failure));
        }
      }
      if (decoded > MAX_DECODED_GROUP_BYTES) {
        throw context.fail(
          'format',
          `row group ${group} cannot be read: its ${rows} rows would decode to ${mib(decoded)}, over the reader's limit of ${mib(MAX_DECODED_GROUP_BYTES)} a row group`,
        );
      }
    }
  } finally {
    await handle.close();
  }
}

/**
 * Row groups `plan.groups` of the leaves `plan.leaves` (the top-level `columns`), read one at a time
 * into batches of `batchRows`; called once `parquetMetadata` has read the footer, whose claims are
 * checked against the file's pages first, and each group's rows against the footer's count after.
 */
export async function* readParquetWasm(
  context: ReadContext,
  columns: readonly string[],
  plan: FallbackPlan,
): AsyncGenerator<RecordBatch> {
  const file = join(context.tempDir, `tm-read-${randomUUID()}.parquet`);
  try {
    const size = await context.store.download(
      context.key,
      file,
      context.signal ? { signal: context.signal } : {},
    );
    context.countBytes(size);
    await checkStart(context, file);
    await checkPages(context, file, plan);
    let decoder: ParquetDecoder;
    try {
      decoder = await openParquetDecoder({ file }, context.signal);
    } catch (error) {
      if (!(error instanceof DecodeError)) throw error;
      // The footer parsed here: parquet-wasm's failure says nothing of the file's validity.
      throw context.fail(
        'format',
        `column ${columns.join(', ')}: this footer is not supported by parquet-wasm (${error.message})`,
      );
    }
    try {
      if (decoder.groups.length !== plan.meta.groups.length) {
        throw context.fail('format', 'parquet-wasm reads another number of row groups');
      }
      for (let group = plan.groups.start; group < plan.groups.end; group++) {
        context.signal?.throwIfAborted();
        let batches: RecordBatch[];
        try {
          batches = tableFromIPC(
            await decoder.readGroup(group, context.batchRows, columns),
          ).batches;
        } catch (error) {
          if (context.signal?.aborted) throw error;
          throw context.fail(
            'format',
            `row group ${group}: parquet-wasm failed on column ${columns.join(', ')}: ${errorMessage(error)}`,
          );
        }
        const failure = checkGroup(plan, group, columns, batches);
        if (failure) throw context.fail('format', failure);
        for (const batch of batches) yield* slices(batch, context.batchRows);
      }
    } finally {
      await decoder.close();
    }
  } finally {
    await rm(file, { force: true });
  }
}

/**
 * Why parquet-wasm's reading of row group `group` cannot be trusted, or null: its rows must be
 * the footer's count (a silent 0 rows read otherwise goes unseen), and no timestamp may have gone
 * through nanoseconds unless the file's are (arrow-rs then wraps those outside 1677–2262).
 */
function checkGroup(
  plan: FallbackPlan,
  group: number,
  columns: readonly string[],
  batches: readonly RecordBatch[],
): string | null {
  const declared = plan.meta.groups[group]!.rows;
  const rows = batches.reduce((sum, batch) => sum + batch.numRows, 0);
  if (rows !== declared) {
    return `row group ${group}: column ${columns.join(', ')}: parquet-wasm read ${rows} rows of the footer's ${declared}, so this file is not supported by it`;
  }
  for (const field of batches[0]?.schema.fields ?? []) {
    if (!DataType.isTimestamp(field.type) || field.type.unit !== TimeUnit.NANOSECOND) continue;
    const own = plan.meta.leaves.find((leaf) => leaf.name === field.name)?.type;
    if (own && DataType.isTimestamp(own) && own.unit === TimeUnit.NANOSECOND) continue;
    return `column ${field.name}: timestamps read as nanoseconds (which wrap outside 1677–2262) are not supported`;
  }
  return null;
}
