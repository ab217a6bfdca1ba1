/** The one error the agent's object-store access throws: a code, and a message free of credentials. */

export type StorageErrorCode =
  | 'not_found'
  | 'access_denied'
  | 'unreachable'
  | 'timeout'
  | 'io'
  /** The caller's AbortSignal fired. */
  | 'aborted'
  /** The object is no longer the version (ETag) the job was planned on. */
  | 'changed';

/** Where a failed call went; never holds credentials. */
export interface StorageErrorDetails {
  operation: string;
  bucket: string;
  key?: string;
  endpoint?: string;
  /** HTTP status of the store's answer, when there was one. */
  status?: number;
  /** The S3 error name (NoSuchKey, InvalidAccessKeyId, ...) or socket error code. */
  reason?: string;
}

export class StorageError extends Error {
  override readonly name = 'StorageError';

  constructor(
    readonly code: StorageErrorCode,
    message: string,
    readonly details: StorageErrorDetails,
  ) {
    super(message);
  }
}
