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

/** Checks the PAR1 magic at both ends and the footer length, so parquet-wasm only sees plausible files. */
async function checkLayout(context: ReadContext, file: string, size: number): Promise<void> {
  if (size === 0) throw context.fail('empty', 'the object is empty');
  if (size < 12) throw context.fail('format', `not a Parquet file (${size} bytes)`);
  const handle = await open(file, 'r');
  try {
    const head = Buffer.alloc(4);
    const tail = Buffer.alloc(8);
    await handle.read(head, 0, 4, 0);
    await handle.read(tail, 0, 8, size - 8);
    if (head.toString('latin1') !== MAGIC) {
      throw context.fail('format', 'not a Parquet file (no PAR1 magic at the start)');
    }
    if (tail.toString('latin1', 4) !== MAGIC) {
      throw context.fail(
        'format',
        'the Parquet file does not end with PAR1 (truncated or corrupt)',
      );
    }
    const footer = tail.readInt32LE(0);
    if (footer <= 0 || footer > size - 12) {
      throw context.fail('format', 'the Parquet footer length is corrupt');
    }
  } finally {
    await handle.close();
  }
}

/** Row groups `split.part` selects (all without a part), read one at a time into batches of `batchRows`. */
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
    await checkLayout(context, file, size);
    let decoder: ParquetDecoder;
    try {
      decoder = await openParquetDecoder({ file }, context.signal);
    } catch (error) {
      if (!(error instanceof DecodeError)) throw error;
      throw context.fail('format', `corrupt Parquet metadata: ${error.message}`);
    }
    try {
      const { start, end } = rowGroupRange(decoder.groups.length, split.part);
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
