/** The agent's view of one S3/R2 bucket: get, stream, download, head, put, list, delete. */
import { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { unquoteEtag, type StoreAccess } from '../../protocol/object-stores.ts';
import { describeError, objectChanged, type CallContext } from './describe-error.ts';
import { StorageError } from './errors.ts';
import { collect, download, withinRange } from './stream-io.ts';
import { clientTimeouts } from './s3-client.ts';
import { ownClient, type ClientLease, type S3Clients } from './s3-clients.ts';

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

export interface ObjectStoreOptions {
  /** Longest wait for an answer, or silence while a body streams (default 30 s). Connects give up after min(3 s, this). */
  timeoutMs?: number;
  /** Clients shared with the thread's other stores (their timeouts then apply); else one of its own. */
  clients?: S3Clients;
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

export function createObjectStore(
  access: StoreAccess,
  options: ObjectStoreOptions = {},
): ObjectStore {
  const shared = options.clients;
  const timeouts = shared?.timeouts ?? clientTimeouts(options.timeoutMs ?? 30_000);
  const timeoutMs = timeouts.idleMs;
  // Taken on the first request: a task served from the agent's cache, or handed its inputs inline,
  // never needs a client, and building one costs ~1 ms of CPU.
  let lease: ClientLease | null = null;
  const client = () =>
    (lease ??= shared ? shared.lease(access) : ownClient(access, timeouts)).client;
  const Bucket = access.bucket;
  const secrets = [
    access.credentials?.secretAccessKey ?? '',
    access.credentials?.sessionToken ?? '',
    access.credentials?.accessKeyId ?? '',
  ].filter((s) => s.length > 0);
  const context = (
    operation: string,
    key: string | undefined,
    signal?: AbortSignal,
    etag?: string,
  ): CallContext => ({
    operation,
    bucket: Bucket,
    ...(key === undefined ? {} : { key }),
    ...(access.endpoint ? { endpoint: access.endpoint } : {}),
    timeoutMs,
    secrets,
    ...(signal ? { signal } : {}),
    ...(etag === undefined ? {} : { etag }),
  });
  const call = async <T>(ctx: CallContext, body: () => Promise<T>): Promise<T> => {
    try {
      if (ctx.signal?.aborted) throw ctx.signal.reason;
      return await body();
    } catch (error) {
      throw describeError(error, ctx);
    }
  };
  const abortOf = (signal?: AbortSignal) => (signal ? { abortSignal: signal } : {});

  async function* getStream(
    key: string,
    range?: ByteRange,
    opts: CallOptions = {},
  ): AsyncGenerator<Uint8Array> {
    const Range = rangeHeader(range);
    if (range && range.start === range.end) return;
    const etag = opts.etag === undefined ? undefined : unquoteEtag(opts.etag);
    const ctx = context(range ? 'read range of' : 'read', key, opts.signal, etag);
    const IfMatch = etag === undefined ? {} : { IfMatch: `"${etag}"` };
    const response = await call(ctx, () =>
      client().send(
        new GetObjectCommand({ Bucket, Key: key, ...(Range ? { Range } : {}), ...IfMatch }),
        abortOf(opts.signal),
      ),
    );
    const body = response.Body;
    // Real S3 and R2 answer 412 to If-Match; s3rver ignores it, so compare the ETag it sent too.
    const now = response.ETag === undefined ? undefined : unquoteEtag(response.ETag);
    if (etag !== undefined && now !== undefined && now !== etag) {
      if (body instanceof Readable) body.destroy();
      throw objectChanged(ctx, now);
    }
    if (!(body instanceof Readable)) {
      throw new StorageError('io', `read s3://${Bucket}/${key}: the store sent no body`, {
        operation: 'read',
        bucket: Bucket,
        key,
      });
    }
    const onAbort = () => body.destroy(new Error('aborted'));
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    const from = range ? servedFrom(response.ContentRange) : 0;
    try {
      yield* withinRange(chunksOf(body, opts.signal), range, from);
    } catch (error) {
      throw describeError(error, ctx);
    } finally {
      opts.signal?.removeEventListener('abort', onAbort);
      body.destroy();
    }
  }

  return {
    bucket: Bucket,
    endpoint: access.endpoint,
    getStream,

    get: (key, range, opts) => collect(getStream(key, range, opts)),

    download: (key, file, opts = {}) =>
      download(getStream(key, undefined, opts), { bucket: Bucket, key, file, secrets }),

    async head(key, opts = {}) {
      const response = await call(context('head', key, opts.signal), () =>
        client().send(new HeadObjectCommand({ Bucket, Key: key }), abortOf(opts.signal)),
      );
      return {
        size: response.ContentLength ?? 0,
        ...(response.ETag === undefined ? {} : { etag: unquoteEtag(response.ETag) }),
      };
    },

    async put(key, bytes, contentType, opts = {}) {
      await call(context('write', key, opts.signal), () =>
        client().send(
          new PutObjectCommand({
            Bucket,
            Key: key,
            Body: bytes,
            ContentLength: bytes.byteLength,
            ...(contentType ? { ContentType: contentType } : {}),
          }),
          abortOf(opts.signal),
        ),
      );
    },

    async *list(prefix, opts = {}) {
      const ctx = context('list', prefix === '' ? undefined : `${prefix}*`, opts.signal);
      let token: string | undefined;
      do {
        const page = await call(ctx, () =>
          client().send(
            new ListObjectsV2Command({
              Bucket,
              Prefix: prefix,
              ...(token ? { ContinuationToken: token } : {}),
            }),
            abortOf(opts.signal),
          ),
        );
        for (const entry of page.Contents ?? []) {
          if (entry.Key !== undefined) yield { key: entry.Key, size: entry.Size ?? 0 };
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
    },

    async delete(key, opts = {}) {
      await call(context('delete', key, opts.signal), () =>
        client().send(new DeleteObjectCommand({ Bucket, Key: key }), abortOf(opts.signal)),
      );
    },

    close() {
      lease?.release();
    },
  };
}

/** The SDK's body as bytes, stopping at `signal`. */
async function* chunksOf(body: Readable, signal?: AbortSignal): AsyncGenerator<Uint8Array> {
  for await (const raw of body) {
    if (signal?.aborted) throw signal.reason;
    yield raw instanceof Uint8Array ? raw : new TextEncoder().encode(String(raw));
  }
}
