/** An ObjectStore whose reads of one object are pinned to the version the job was planned on. */
import type { CallOptions, ObjectStore } from './store.ts';

/** The object a task reads, as the control plane listed it. */
export interface PlannedObject {
  key: string;
  size: number;
  etag: string;
}

export interface CachedStore extends ObjectStore {
  /** Requested bytes served from the cache rather than the store. */
  readonly counters: { bytesCached: number };
}

/** `store`, with every read of `object.key` asking for `object.etag` (a change fails the read). */
export function pinnedStore(store: ObjectStore, object: PlannedObject): CachedStore {
  const pin = (key: string, options: CallOptions = {}): CallOptions =>
    key === object.key ? { ...options, etag: object.etag } : options;
  return {
    ...store,
    counters: { bytesCached: 0 },
    get: (key, range, options) => store.get(key, range, pin(key, options)),
    getStream: (key, range, options) => store.getStream(key, range, pin(key, options)),
    download: (key, file, options) => store.download(key, file, pin(key, options)),
  };
}
