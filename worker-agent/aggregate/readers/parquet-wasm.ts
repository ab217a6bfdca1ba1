/**
 * Reads a Parquet object with parquet-wasm, row group by row group from a temporary local copy,
 * decoded in a worker: the path for files the JavaScript reader leaves alone (nested columns,
 * other encodings and codecs, FIXED_LEN_BYTE_ARRAY and INT96 values).
 */
import { randomUUID } from 'node:crypto';
import { open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { tableFromIPC, type RecordBatch } from 'apache-arrow';
import type { InputSplit } from '../../../protocol/aggregate.ts';
import { errorMessage } from './errors.ts';
import { ParquetFormatError } from './parquet/errors.ts';
import { MAX_DECODED_GROUP_BYTES, mib } from './parquet/limits.ts';
import type { ParquetMetadata } from './parquet/metadata.ts';
import { checkPageOutput } from './parquet/output-bound.ts';
import { scanChunk } from './parquet/pages.ts';
import { DecodeError, openParquetDecoder, type ParquetDecoder } from './parquet-decoder.ts';
import { slices, type ReadContext } from './read-context.ts';
import { rowGroupRange } from './row-group-range.ts';

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
            exactRows: column.unsupported !== 'a nested column',
            entryBytes: 1,
          });
          decoded += rows * 10 + pageBytes;
        } catch (error) {
          if (!(error instanceof ParquetFormatError)) throw error;
          throw context.fail(
            'format',
            `row group ${group} is corrupt: column ${column.name}: ${error.message}`,
          );
        }
      }
      if (decoded > MAX_DECODED_GROUP_BYTES) {
        throw context.fail(
          'format',
          `row group ${group}: its ${rows} rows would decode to ${mib(decoded)}, over the reader's limit of ${mib(MAX_DECODED_GROUP_BYTES)} a row group`,
        );
      }
    }
  } finally {
    await handle.close();
  }
}

/**
 * Row groups `split.part` selects (all without a part), read one at a time into batches of
 * `batchRows`; called once `parquetMetadata` has read the footer (`plan`), whose claims are checked
 * against the file's pages first.
 */
export async function* readParquetWasm(
  context: ReadContext,
  split: InputSplit,
  columns: string[] | undefined,
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
      throw context.fail('format', `corrupt Parquet metadata: ${error.message}`);
    }
    try {
      const { start, end } = rowGroupRange(
        decoder.groups.map((group) => group.bytes),
        split.part,
      );
      for (let group = start; group < end; group++) {
        context.signal?.throwIfAborted();
        let batches: RecordBatch[];
        try {
          batches = tableFromIPC(
            await decoder.readGroup(group, context.batchRows, columns),
          ).batches;
        } catch (error) {
          if (context.signal?.aborted) throw error;
          throw context.fail('format', `row group ${group} is corrupt: ${errorMessage(error)}`);
        }
        for (const batch of batches) yield* slices(batch, context.batchRows);
      }
    } finally {
      await decoder.close();
    }
  } finally {
    await rm(file, { force: true });
  }
}
