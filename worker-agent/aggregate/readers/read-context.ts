/** What every format reader gets: the store, the object, batch size, scratch space and progress hooks. */
import type { RecordBatch } from 'apache-arrow';
import type { ObjectStore } from '../../storage/index.ts';
import type { ReaderError, ReaderErrorCode } from './errors.ts';

export interface ReadContext {
  store: ObjectStore;
  key: string;
  /** Most rows per yielded batch. */
  batchRows: number;
  /** The caller is done with each batch before it asks for the next: a reader may reuse its buffers. */
  reuseBuffers?: boolean;
  /** The columns the query needs; a reader may skip the others. */
  columns?: readonly string[];
  /** Where a reader may put temporary files (removed before it returns). */
  tempDir: string;
  signal?: AbortSignal;
  /** Adds bytes read from the store to the progress figures. */
  countBytes(bytes: number): void;
  /** A ReaderError about this object in this format. */
  fail(code: ReaderErrorCode, reason: string): ReaderError;
}

/** `batch` cut into pieces of at most `rows` rows (zero-copy slices). */
export function* slices(batch: RecordBatch, rows: number): Generator<RecordBatch> {
  if (batch.numRows <= rows) {
    if (batch.numRows > 0) yield batch;
    return;
  }
  for (let start = 0; start < batch.numRows; start += rows) yield batch.slice(start, start + rows);
}

/** The store's stream of the object, counting the bytes as they arrive. */
export async function* metered(
  context: ReadContext,
  source: AsyncIterable<Uint8Array>,
): AsyncGenerator<Uint8Array> {
  for await (const chunk of source) {
    context.countBytes(chunk.byteLength);
    yield chunk;
  }
}
