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

/**
 * Row groups `split.part` selects (all without a part), read one at a time into batches of
 * `batchRows`; called once `parquetMetadata` has read the footer.
 */
export async function* readParquetWasm(
  context: ReadContext,
  split: InputSplit,
  columns: string[] | undefined,
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
