/** A Parquet object's row groups, read from its footer by range requests (for planning splits). */
import type { ObjectStore } from '../../storage/index.ts';
import { ReaderError } from './errors.ts';
import { DecodeError, openParquetDecoder, type RowGroupInfo } from './parquet-decoder.ts';

export type { RowGroupInfo } from './parquet-decoder.ts';

const MAGIC = new TextEncoder().encode('PAR1');

/**
 * Fetches only the footer (two range requests) and has the decoder read it from a stand-in file:
 * `PAR1`, the footer, its length, `PAR1` (the metadata's offsets are not followed).
 */
export async function parquetRowGroups(
  store: ObjectStore,
  key: string,
  options: { signal?: AbortSignal } = {},
): Promise<RowGroupInfo[]> {
  const fail = (code: 'empty' | 'format', reason: string) =>
    new ReaderError(code, key, 'parquet', reason, `s3://${store.bucket}/${key}`);
  const { size } = await store.head(key, options);
  if (size === 0) throw fail('empty', 'the object is empty');
  if (size < 12) throw fail('format', `not a Parquet file (${size} bytes)`);
  const tail = await store.get(key, { start: size - 8, end: size }, options);
  if (new TextDecoder().decode(tail.subarray(4)) !== 'PAR1') {
    throw fail('format', 'not a Parquet file (no PAR1 magic at the end)');
  }
  const length = new DataView(tail.buffer, tail.byteOffset, 8).getInt32(0, true);
  if (length <= 0 || length > size - 12) {
    throw fail('format', 'the Parquet footer length is corrupt');
  }
  const footer = await store.get(key, { start: size - 8 - length, end: size - 8 }, options);
  const standIn = new Uint8Array(4 + length + 8);
  standIn.set(MAGIC, 0);
  standIn.set(footer, 4);
  standIn.set(tail, 4 + length);
  try {
    const decoder = await openParquetDecoder({ bytes: standIn }, options.signal);
    await decoder.close();
    return decoder.groups;
  } catch (error) {
    if (!(error instanceof DecodeError)) throw error;
    throw fail('format', `corrupt Parquet metadata: ${error.message}`);
  }
}
