/** What the Scheduler gives a map task for a store, for tests that run the map executor themselves. */
import type { StoreAccess, TaskStore } from '../../protocol/index.ts';
import { presignUrl } from '../../durable-objects/storage/presign.ts';

/** The store's location as a task sees it. */
export function taskStore(access: StoreAccess): TaskStore {
  return { bucket: access.bucket, ...(access.endpoint ? { endpoint: access.endpoint } : {}) };
}

/** A map spec's store fields: GET of the input, PUT of each partition's partial, valid an hour. */
export function mapStores(
  access: StoreAccess,
  inputKey: string,
  outputPrefix: string,
  partitions: number,
) {
  const now = new Date();
  return {
    source: taskStore(access),
    inputUrl: presignUrl(access, 'GET', inputKey, 3600, now),
    output: taskStore(access),
    outputPrefix,
    outputUrls: Array.from({ length: partitions }, (_, p) =>
      presignUrl(access, 'PUT', `${outputPrefix}part-${p}.arrow`, 3600, now),
    ),
  };
}
