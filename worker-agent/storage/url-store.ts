/**
 * A task's view of a store through the presigned URLs its spec carries: GET (ranged, pinned by
 * If-Match) and PUT of exactly those objects with plain fetch, no credentials. A call retries as
 * the SDK's did (three attempts on a socket error, a timeout, 5xx or 429) under one
 * `amz-sdk-invocation-id`, so a store's logs (and the tests' fault proxy) see a call and its retries.
 */
import { randomUUID } from 'node:crypto';
import { unquoteEtag, type TaskStore } from '../../protocol/index.ts';
import { describeError, objectChanged, type CallContext } from './describe-error.ts';
import { StorageError } from './errors.ts';
import { collect, download, withinRange } from './stream-io.ts';
import { errorFrom, readBody, type FetchFailure } from './url-fetch.ts';
import {
  rangeHeader,
  servedFrom,
  type ByteRange,
  type CallOptions,
  type ObjectStore,
} from './store.ts';

export interface UrlStoreOptions {
  /** Longest wait for an answer, or silence while a body streams (default 30 s). */
  timeoutMs?: number;
  /** Attempts per call (default 3, as the SDK's standard retry mode). */
  attempts?: number;
}

/** What a task may do: GET these keys, PUT those, and the sizes its inputs were listed with. */
export interface TaskUrls {
  get?: ReadonlyMap<string, string>;
  put?: ReadonlyMap<string, string>;
  /** Sizes (and ETags) as listed when the job was planned: `head` answers from these. */
  sizes?: ReadonlyMap<string, { size: number; etag?: string }>;
}

/** Opens a task's store: its location and URLs; the agent binds its timeouts into it. */
export type OpenStore = (store: TaskStore, urls: TaskUrls) => ObjectStore;

const retried = (status: number) => status >= 500 || status === 429;

export function createUrlStore(
  store: TaskStore,
  urls: TaskUrls,
  options: UrlStoreOptions = {},
): ObjectStore {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const attempts = options.attempts ?? 3;
  const Bucket = store.bucket;
  // A URL is a credential for its object: never in a message.
  const secrets = [...(urls.get?.values() ?? []), ...(urls.put?.values() ?? [])].flatMap((url) => [
    url,
    new URL(url).search,
  ]);
  const context = (
    operation: string,
    key: string,
    signal?: AbortSignal,
    etag?: string,
  ): CallContext => ({
    operation,
    bucket: Bucket,
    key,
    ...(store.endpoint ? { endpoint: store.endpoint } : {}),
    timeoutMs,
    secrets,
    ...(signal ? { signal } : {}),
    ...(etag === undefined ? {} : { etag }),
  });
  const urlOf = (ctx: CallContext, method: 'get' | 'put', key: string): string => {
    const url = urls[method]?.get(key);
    if (url !== undefined) return url;
    const verb = method === 'get' ? 'read' : 'write';
    throw new StorageError(
      'access_denied',
      `${ctx.operation} s3://${Bucket}/${key} failed: this task was given no URL to ${verb} it`,
      { operation: ctx.operation, bucket: Bucket, key, reason: 'NoUrl' },
    );
  };

  /** One call: up to `attempts` requests, each with its own timeout, until an answer to keep. */
  async function send(ctx: CallContext, url: string, init: RequestInit): Promise<Response> {
    const headers = new Headers(init.headers);
    headers.set('amz-sdk-invocation-id', randomUUID());
    let failure: FetchFailure | null = null;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      if (ctx.signal?.aborted) throw describeError(ctx.signal.reason, ctx);
      headers.set('amz-sdk-request', `attempt=${attempt}; max=${attempts}`);
      // Only until the answer's headers: a body that streams longer is fine while it moves
      // (readBody's idle limit), as the SDK's socket timeout had it.
      const waiting = new AbortController();
      const timer = setTimeout(() => waiting.abort(), timeoutMs);
      const signal = ctx.signal ? AbortSignal.any([ctx.signal, waiting.signal]) : waiting.signal;
      try {
        const response = await fetch(url, { ...init, headers, signal });
        clearTimeout(timer);
        if (!retried(response.status) || attempt === attempts) return response;
        failure = { status: response.status, body: await response.text().catch(() => '') };
      } catch (error) {
        clearTimeout(timer);
        failure = { error, timedOut: waiting.signal.aborted && !ctx.signal?.aborted };
        if (ctx.signal?.aborted) break;
      }
      if (attempt < attempts)
        await new Promise((r) => setTimeout(r, 100 * 2 ** attempt * Math.random()));
    }
    throw errorFrom(failure!, ctx);
  }

  /** The answer's body, or its status as a StorageError. */
  async function answer(ctx: CallContext, response: Response): Promise<void> {
    if (response.ok) return;
    const body = await response.text().catch(() => '');
    throw errorFrom({ status: response.status, body }, ctx);
  }

  async function* getStream(
    key: string,
    range?: ByteRange,
    opts: CallOptions = {},
  ): AsyncGenerator<Uint8Array> {
    const Range = rangeHeader(range);
    if (range && range.start === range.end) return;
    const etag = opts.etag === undefined ? undefined : unquoteEtag(opts.etag);
    const ctx = context(range ? 'read range of' : 'read', key, opts.signal, etag);
    const headers: Record<string, string> = {};
    if (Range) headers.range = Range;
    if (etag !== undefined) headers['if-match'] = `"${etag}"`;
    const response = await send(ctx, urlOf(ctx, 'get', key), { method: 'GET', headers });
    await answer(ctx, response);
    // Real S3 and R2 answer 412 to If-Match; s3rver ignores it, so compare the ETag it sent too.
    const sent = response.headers.get('etag');
    const now = sent === null ? undefined : unquoteEtag(sent);
    if (etag !== undefined && now !== undefined && now !== etag) {
      await response.body?.cancel();
      throw objectChanged(ctx, now);
    }
    if (!response.body) {
      throw new StorageError('io', `read s3://${Bucket}/${key}: the store sent no body`, {
        operation: 'read',
        bucket: Bucket,
        key,
      });
    }
    const from = range ? servedFrom(response.headers.get('content-range') ?? undefined) : 0;
    try {
      yield* withinRange(readBody(response.body, timeoutMs, opts.signal), range, from);
    } catch (error) {
      throw describeError(error, ctx);
    }
  }

  const refused = (operation: string, key: string) =>
    new StorageError(
      'access_denied',
      `${operation} s3://${Bucket}/${key}: a task may not ${operation}`,
      {
        operation,
        bucket: Bucket,
        key,
        reason: 'NoUrl',
      },
    );

  return {
    bucket: Bucket,
    endpoint: store.endpoint,
    getStream,
    get: (key, range, opts) => collect(getStream(key, range, opts)),

    download: (key, file, opts = {}) =>
      download(getStream(key, undefined, opts), { bucket: Bucket, key, file, secrets }),

    async head(key, opts = {}) {
      const known = urls.sizes?.get(key);
      if (known) return { ...known };
      // A GET URL cannot HEAD (the method is signed): its first byte's Content-Range says the size.
      const ctx = context('head', key, opts.signal);
      const response = await send(ctx, urlOf(ctx, 'get', key), {
        method: 'GET',
        headers: { range: 'bytes=0-0' },
      });
      if (response.status === 416) return { size: 0 };
      await answer(ctx, response);
      await response.body?.cancel();
      const total = /\/(\d+)$/.exec(response.headers.get('content-range') ?? '');
      const size = Number(total?.[1] ?? response.headers.get('content-length') ?? 0);
      const etag = response.headers.get('etag');
      return { size, ...(etag ? { etag: unquoteEtag(etag) } : {}) };
    },

    async put(key, bytes, contentType, opts = {}) {
      const ctx = context('write', key, opts.signal);
      const headers: Record<string, string> = {};
      if (contentType) headers['content-type'] = contentType;
      const response = await send(ctx, urlOf(ctx, 'put', key), {
        method: 'PUT',
        headers,
        body: bytes,
      });
      await answer(ctx, response);
      await response.body?.cancel();
    },

    // eslint-disable-next-line require-yield
    async *list(prefix) {
      throw refused('list', `${prefix}*`);
    },

    async delete(key) {
      throw refused('delete', key);
    },

    close() {},
  };
}
