/** What every store offers (get, stream, download, head, put, list, delete), and its HTTP range helpers. */

/** Bytes `[start, end)`: `end` is exclusive, as in `Uint8Array.subarray`. */
export interface ByteRange {
  start: number;
  end: number;
}

export interface CallOptions {
  signal?: AbortSignal;
  /**
   * Reads only this version of the object (ETag, quotes optional): any other fails with StorageError 'changed'.
   * Used by get, getStream and download.
   */
  etag?: string;
  /**
   * get: room the caller lends for the bytes; a store may return them in its start (a view of
   * it) rather than in a new array. The block cache does, so a reader that reuses its buffers
   * allocates none per read.
   */
  into?: Uint8Array;
}

export interface ObjectInfo {
  key: string;
  size: number;
}

export interface ObjectStore {
  readonly bucket: string;
  readonly endpoint: string | undefined;
  /** The whole object, or the bytes of `range`. */
  get(key: string, range?: ByteRange, options?: CallOptions): Promise<Uint8Array>;
  /** The object (or `range` of it) as it arrives, chunk by chunk. */
  getStream(key: string, range?: ByteRange, options?: CallOptions): AsyncIterable<Uint8Array>;
  /** Streams the object into `file`; resolves to the number of bytes written. No partial file is left on failure. */
  download(key: string, file: string, options?: CallOptions): Promise<number>;
  /** Size and, when the store sends one, the ETag (unquoted). */
  head(key: string, options?: CallOptions): Promise<{ size: number; etag?: string }>;
  put(key: string, bytes: Uint8Array, contentType?: string, options?: CallOptions): Promise<void>;
  /** Every object under `prefix`, page by page. */
  list(prefix: string, options?: CallOptions): AsyncIterable<ObjectInfo>;
  /** Deleting a missing object is not an error (as in S3). */
  delete(key: string, options?: CallOptions): Promise<void>;
  /** Releases the client's sockets. */
  close(): void;
}

export function rangeHeader(range: ByteRange | undefined): string | undefined {
  if (range === undefined) return undefined;
  const { start, end } = range;
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start) {
    throw new RangeError(`invalid byte range [${start}, ${end})`);
  }
  return `bytes=${start}-${end - 1}`;
}

/** Where the served bytes start: the first number of `Content-Range: bytes a-b/n`, else 0 (whole object). */
export function servedFrom(contentRange: string | undefined): number {
  const match = /^bytes (\d+)-/.exec(contentRange ?? '');
  return match ? Number(match[1]) : 0;
}
