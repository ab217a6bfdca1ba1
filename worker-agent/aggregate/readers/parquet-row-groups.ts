/** A Parquet object's row groups, read from its footer by range requests (for planning splits). */
import type { ObjectStore } from '../../storage/index.ts';
import { ReaderError } from './errors.ts';
import { parquetMetadata } from './parquet.ts';
import type { RowGroupInfo } from './parquet-decoder.ts';

export type { RowGroupInfo } from './parquet-decoder.ts';

export async function parquetRowGroups(
  store: ObjectStore,
  key: string,
  options: { signal?: AbortSignal } = {},
): Promise<RowGroupInfo[]> {
  const meta = await parquetMetadata({
    store,
    key,
    ...options,
    countBytes: () => undefined,
    fail: (code, reason) =>
      new ReaderError(code, key, 'parquet', reason, `s3://${store.bucket}/${key}`),
  });
  return meta.groups.map(({ rows, bytes }) => ({ rows, bytes }));
}
