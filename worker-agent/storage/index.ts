/** S3/R2 access for the agent: one ObjectStore per StoreAccess, one StorageError for every failure. */
export { createObjectStore } from './object-store.ts';
export type {
  ByteRange,
  CallOptions,
  ObjectInfo,
  ObjectStore,
  ObjectStoreOptions,
  OpenStore,
} from './object-store.ts';
export { StorageError } from './errors.ts';
export type { StorageErrorCode, StorageErrorDetails } from './errors.ts';
