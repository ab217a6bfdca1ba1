/** S3/R2 access for the agent: tasks through presigned URLs, the CLI through the SDK; one StorageError for every failure, a local block cache. */
export { createObjectStore } from './object-store.ts';
export type {
  ByteRange,
  CallOptions,
  ObjectInfo,
  ObjectStore,
  ObjectStoreOptions,
} from './object-store.ts';
export { createUrlStore } from './url-store.ts';
export type { OpenStore, TaskUrls, UrlStoreOptions } from './url-store.ts';
export { getMany } from './get-many.ts';
export { S3Clients } from './s3-clients.ts';
export { clientTimeouts } from './s3-client.ts';
export { StorageError } from './errors.ts';
export type { StorageErrorCode, StorageErrorDetails } from './errors.ts';
export { BlockCache } from './block-cache.ts';
export type { BlockCacheOptions, TrimResult } from './block-cache.ts';
export { cachedStore } from './cached-store.ts';
export { pinnedStore } from './pinned-store.ts';
export type { CachedStore, PlannedObject } from './pinned-store.ts';
