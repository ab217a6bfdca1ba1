/** Reads one input split (a whole object, or part of a Parquet file's row groups) as Arrow record batches. */
import type { RecordBatch } from 'apache-arrow';
import type { InputFormat, InputSplit } from '../../../protocol/aggregate.ts';
import { StorageError, type ObjectStore } from '../../storage/index.ts';
import { readArrow } from './arrow-ipc.ts';
import { readCsv } from './csv.ts';
import { ReaderError } from './errors.ts';
import { readParquet } from './parquet.ts';
import type { ReadContext } from './read-context.ts';

export interface ReadProgress {
  /** Bytes read from the store so far. */
  bytesRead: number;
  /** Rows yielded so far. */
  rowsRead: number;
}

export interface ReadSplitOptions {
  /** Most rows per batch (default 65,536). Memory is bounded by this and by a Parquet row group. */
  batchRows?: number;
  /**
   * The caller is done with each batch before it asks for the next, so the reader may decode
   * into the same buffers again (Parquet does, row group after row group). Default false.
   */
  reuseBuffers?: boolean;
  /** Only these columns are needed (Parquet decodes just them); all when absent. */
  columns?: readonly string[];
  /** Where Parquet inputs are downloaded to (the file is removed when reading ends, however it ends). */
  tempDir: string;
  signal?: AbortSignal;
  /** Called after every batch, and once at the end. */
  onProgress?: (progress: ReadProgress) => void;
}

export const DEFAULT_BATCH_ROWS = 65_536;

export async function* readSplit(
  store: ObjectStore,
  split: InputSplit,
  format: InputFormat,
  options: ReadSplitOptions,
): AsyncGenerator<RecordBatch> {
  const progress: ReadProgress = { bytesRead: 0, rowsRead: 0 };
  const where = `s3://${store.bucket}/${split.key}`;
  const { signal } = options;
  const context: ReadContext = {
    store,
    key: split.key,
    batchRows: Math.max(1, Math.floor(options.batchRows ?? DEFAULT_BATCH_ROWS)),
    tempDir: options.tempDir,
    ...(options.columns ? { columns: options.columns } : {}),
    ...(options.reuseBuffers ? { reuseBuffers: true } : {}),
    ...(signal ? { signal } : {}),
    countBytes: (bytes) => {
      progress.bytesRead += bytes;
    },
    fail: (code, reason) => new ReaderError(code, split.key, format, reason, where),
  };
  const translate = (error: unknown): unknown => {
    if (signal?.aborted) return context.fail('aborted', 'the read was aborted');
    if (error instanceof ReaderError || error instanceof StorageError) return error;
    if (error instanceof RangeError) return context.fail('format', error.message);
    return error;
  };
  if (split.part && split.part.of > 1 && format !== 'parquet') {
    throw context.fail(
      'format',
      `only Parquet inputs split into parts (got part ${split.part.index} of ${split.part.of})`,
    );
  }
  const inner =
    format === 'parquet'
      ? readParquet(context, split)
      : format === 'arrow'
        ? readArrow(context)
        : readCsv(context);
  try {
    for (;;) {
      let next: IteratorResult<RecordBatch>;
      try {
        signal?.throwIfAborted();
        next = await inner.next();
      } catch (error) {
        throw translate(error);
      }
      if (next.done) break;
      progress.rowsRead += next.value.numRows;
      options.onProgress?.({ ...progress });
      yield next.value;
    }
    options.onProgress?.({ ...progress });
  } finally {
    await inner.return(undefined);
  }
}
