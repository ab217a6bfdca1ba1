/**
 * Which registered object store an `s3://` URL of a query means: the store over that bucket
 * whose prefix is the longest that starts the URL's path; when no store is over that bucket,
 * the store of that name (its own prefix then comes before the path).
 */
import type { AggregateJobRequest } from '../../protocol/index.ts';
import type { SqlFrom } from './sql-from.ts';
import { SqlRefusal } from './sql-refusal.ts';

export interface StoreLocation {
  name: string;
  bucket: string;
  /** Empty or ending with `/`. */
  prefix: string;
}

/** The job's source: the store, and the folder or object under its prefix. */
export function sqlSource(
  from: SqlFrom,
  stores: readonly StoreLocation[],
): AggregateJobRequest['source'] {
  const overBucket = stores
    .filter((store) => store.bucket === from.bucket && from.key.startsWith(store.prefix))
    .sort((a, b) => b.prefix.length - a.prefix.length)[0];
  const bucketKnown = stores.some((store) => store.bucket === from.bucket);
  const byName = bucketKnown ? undefined : stores.find((store) => store.name === from.bucket);
  const store = overBucket ?? byName;
  if (!store)
    throw new SqlRefusal(
      'FROM',
      `no registered object store is over s3://${from.bucket}/${from.key} (none has that bucket with a prefix that starts the path, nor that name); register one with POST /v1/object-stores`,
    );
  const rest = overBucket ? from.key.slice(store.prefix.length) : from.key;
  const source = { store: store.name, format: from.format };
  if (from.object) return { ...source, paths: [rest] };
  return rest ? { ...source, prefix: rest } : source;
}
