/**
 * S3/R2 access for the agent: tasks through presigned URLs; one StorageError for every failure, a
 * local block cache. The AWS SDK client (`createObjectStore`, for the CLI and tests) is imported
 * from object-store.ts on its own, so the agent never loads the SDK.
 */
export type { ByteRange, CallOptions, ObjectInfo, ObjectStore } from './store.ts';
export { createUrlStore } from './url-store.ts';
export type { OpenStore, TaskUrls, UrlStoreOptions } from './url-store.ts';
export { getMany } from './get-many.ts';
export { StorageError } from './errors.ts';
export type { StorageErrorCode, StorageErrorDetails } from './errors.ts';
export { BlockCache } from './block-cache.ts';
export type { BlockCacheOptions, TrimResult } from './block-cache.ts';
export { cachedStore } from './cached-store.ts';
export { pinnedStore } from './pinned-store.ts';
export type { CachedStore, PlannedObject } from './pinned-store.ts';
