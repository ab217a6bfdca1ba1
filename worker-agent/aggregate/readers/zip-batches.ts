/**
 * Record batches of the same rows from several readers (each some of the columns) joined side by
 * side: batches are cut where either reader's end, so the readers need not cut them alike.
 */
import { Field, makeData, RecordBatch, Schema, Struct, type Data } from 'apache-arrow';

interface Cursor {
  source: AsyncIterator<RecordBatch>;
  batch: RecordBatch | null;
  offset: number;
}

/** The cursor's batch with rows left, fetching the next (null at the end of its source). */
async function current(cursor: Cursor): Promise<RecordBatch | null> {
  while (!cursor.batch || cursor.offset >= cursor.batch.numRows) {
    const next = await cursor.source.next();
    if (next.done) return (cursor.batch = null);
    cursor.batch = next.value;
    cursor.offset = 0;
  }
  return cursor.batch;
}

/** Rows [offset, offset + length) of `batch`'s columns (the batch's own data when that is all of it). */
function columnsOf(batch: RecordBatch, offset: number, length: number): Data[] {
  const whole =
    offset === 0 && length === batch.numRows ? batch : batch.slice(offset, offset + length);
  return whole.data.children;
}

/** The rows of `sources`, read in step, as batches with every source's columns in `order`. */
export async function* zipBatches(
  sources: readonly AsyncIterable<RecordBatch>[],
  order: readonly string[],
): AsyncGenerator<RecordBatch> {
  const cursors: Cursor[] = sources.map((source) => ({
    source: source[Symbol.asyncIterator](),
    batch: null,
    offset: 0,
  }));
  try {
    for (;;) {
      const batches = await Promise.all(cursors.map(current));
      if (batches.every((batch) => batch === null)) return;
      if (batches.some((batch) => batch === null)) {
        throw new Error('the column readers ended at different rows');
      }
      const length = Math.min(...cursors.map((c) => c.batch!.numRows - c.offset));
      const fields: Field[] = [];
      const children: Data[] = [];
      for (const cursor of cursors) {
        const batch = cursor.batch!;
        fields.push(...batch.schema.fields);
        children.push(...columnsOf(batch, cursor.offset, length));
        cursor.offset += length;
      }
      const index = order.map((name) => fields.findIndex((f) => f.name === name));
      const ordered = index.map((i) => fields[i]!);
      yield new RecordBatch(
        new Schema(ordered),
        makeData({
          type: new Struct(ordered),
          length,
          nullCount: 0,
          children: index.map((i) => children[i]!),
        }),
      );
    }
  } finally {
    await Promise.all(cursors.map((cursor) => cursor.source.return?.()));
  }
}
