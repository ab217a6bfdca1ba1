/** One S3/R2 bucket through the AWS SDK, for the CLI and tests (the agent's tasks use url-store.ts). */
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
import {
  rangeHeader,
  servedFrom,
  type ByteRange,
  type CallOptions,
  type ObjectInfo,
  type ObjectStore,
} from './store.ts';

export interface ObjectStoreOptions {
  /** Longest wait for an answer, or silence while a body streams (default 30 s). Connects give up after min(3 s, this). */
  timeoutMs?: number;
  /** Clients shared with the thread's other stores (their timeouts then apply); else one of its own. */
  clients?: S3Clients;
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
