/** Reads Arrow IPC objects, file or stream format, batch by batch straight from the store. */
import {
  RecordBatchReader,
  type AsyncRecordBatchFileReader,
  type AsyncRecordBatchStreamReader,
  type RecordBatch,
} from 'apache-arrow';
import { StorageError } from '../../storage/index.ts';
import { errorMessage } from './errors.ts';
import { rangeFile } from './range-file.ts';
import { metered, slices, type ReadContext } from './read-context.ts';

const MAGIC = 'ARROW1';
/** "ARROW1" and two bytes of padding open a file. */
const FILE_HEAD = 8;
/** A file ends with the footer's int32 length and "ARROW1". */
const FILE_TAIL = 10;

function hasMagic(bytes: Uint8Array, at: number): boolean {
  return (
    bytes.length >= at + MAGIC.length &&
    new TextDecoder().decode(bytes.subarray(at, at + MAGIC.length)) === MAGIC
  );
}

/**
 * Which layout the object has, checked enough to fail clearly on other bytes. A file is read by
 * ranges through its footer (apache-arrow writes no schema message into a file's stream part, and
 * reading a file from a stream would load it whole); a stream is read as it arrives.
 */
async function layout(context: ReadContext): Promise<{ file: boolean; size: number }> {
  const options = context.signal ? { signal: context.signal } : {};
  const { size } = await context.store.head(context.key, options);
  if (size === 0) throw context.fail('empty', 'the object is empty');
  const head = await context.store.get(
    context.key,
    { start: 0, end: Math.min(FILE_HEAD, size) },
    options,
  );
  context.countBytes(head.byteLength);
  if (hasMagic(head, 0)) {
    if (size < FILE_HEAD + FILE_TAIL) {
      throw context.fail('format', `an Arrow IPC file of ${size} bytes is truncated`);
    }
    const tail = await context.store.get(
      context.key,
      { start: size - FILE_TAIL, end: size },
      options,
    );
    context.countBytes(tail.byteLength);
    if (!hasMagic(tail, 4)) {
      throw context.fail(
        'format',
        'the Arrow IPC file does not end with ARROW1 (truncated or corrupt)',
      );
    }
    const footer = new DataView(tail.buffer, tail.byteOffset, 4).getInt32(0, true);
    const end = size - FILE_TAIL - footer;
    if (footer <= 0 || end < FILE_HEAD) {
      throw context.fail('format', 'the Arrow IPC file footer is corrupt');
    }
    return { file: true, size };
  }
  // A stream opens with a message: 0xFFFFFFFF and an int32 metadata length (or, before 0.15, just the length).
  if (head.length < 8) throw context.fail('format', 'not an Arrow IPC file or stream (too short)');
  const view = new DataView(head.buffer, head.byteOffset, 8);
  const length =
    view.getUint32(0, true) === 0xffffffff ? view.getInt32(4, true) : view.getInt32(0, true);
  if (length <= 0 || length > size) {
    throw context.fail(
      'format',
      'not an Arrow IPC file or stream (no ARROW1 magic, no schema message)',
    );
  }
  return { file: false, size };
}

export async function* readArrow(context: ReadContext): AsyncGenerator<RecordBatch> {
  const { file, size } = await layout(context);
  const options = context.signal ? { signal: context.signal } : {};
  const corrupt = (error: unknown) =>
    error instanceof StorageError
      ? error
      : context.fail('format', `corrupt Arrow IPC data: ${errorMessage(error)}`);
  let reader: AsyncRecordBatchFileReader | AsyncRecordBatchStreamReader;
  try {
    reader = file
      ? await RecordBatchReader.from(rangeFile(context, size))
      : await RecordBatchReader.from(
          metered(context, context.store.getStream(context.key, undefined, options)),
        );
    await reader.open();
  } catch (error) {
    throw corrupt(error);
  }
  if (!reader.schema) throw context.fail('format', 'the Arrow IPC data has no schema');
  const batches = reader[Symbol.asyncIterator]();
  try {
    for (;;) {
      let next: IteratorResult<RecordBatch>;
      try {
        next = await batches.next();
      } catch (error) {
        throw corrupt(error);
      }
      if (next.done) break;
      yield* slices(next.value, context.batchRows);
    }
  } finally {
    await batches.return?.();
    await reader.cancel();
  }
}
