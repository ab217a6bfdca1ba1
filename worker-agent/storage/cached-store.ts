/**
 * An ObjectStore that reads one object version through the block cache: blocks on disk are served
 * from there, each run of missing blocks is one ranged GET pinned to the planned ETag.
 */
import { cacheId, type BlockCache } from './block-cache.ts';
import {
  blockSpan,
  blocksCovering,
  clampRange,
  extentHolding,
  runSpan,
  runsOf,
  windowsOf,
  type BlockRun,
} from './block-ranges.ts';
import { StorageError } from './errors.ts';
import { unquoteEtag } from '../../protocol/object-stores.ts';
import type { ByteRange, CallOptions, ObjectStore } from './store.ts';
import { pinnedStore, type CachedStore, type PlannedObject } from './pinned-store.ts';

/** getStream hands out this much at a time, so a streamed object never sits whole in memory. */
const WINDOW_BYTES = 4 * 1024 * 1024;

export function cachedStore(
  store: ObjectStore,
  cache: BlockCache,
  object: PlannedObject,
): CachedStore {
  const etag = unquoteEtag(object.etag);
  const { key, size } = object;
  const { blockBytes } = cache;
  const id = cacheId({ endpoint: store.endpoint, bucket: store.bucket, key, etag, size });
  const pinned = pinnedStore(store, { key, size, etag });
  const counters = { bytesCached: 0 };

  const where = (range: ByteRange) =>
    `read s3://${store.bucket}/${key} [${range.start}, ${range.end})`;
  const checkSignal = (range: ByteRange, signal: AbortSignal | undefined) => {
    if (!signal?.aborted) return;
    throw new StorageError('aborted', `${where(range)} failed: aborted by the caller`, {
      operation: 'read',
      bucket: store.bucket,
      key,
    });
  };

  /** Fetches blocks `run` in one request and caches them; a store error passes through as it is. */
  async function fetchRun(run: BlockRun, signal: AbortSignal | undefined): Promise<Uint8Array> {
    const span = runSpan(run, size, blockBytes);
    const bytes = await store.get(key, span, { ...(signal ? { signal } : {}), etag });
    if (bytes.byteLength !== span.end - span.start) {
      // Same ETag but fewer bytes: the size the job was planned with is not this object's.
      throw new StorageError(
        'changed',
        `${where(span)}: got ${bytes.byteLength} bytes, but the job was planned on a ${size}-byte object; submit the job again`,
        { operation: 'read', bucket: store.bucket, key },
      );
    }
    cache.write(id, run, bytes);
    return bytes;
  }

  /** Bytes from `from` on, out of the extent `run` on disk, into `target`; false on a miss. */
  function readExtent(run: BlockRun, from: number, target: Uint8Array): boolean {
    const span = runSpan(run, size, blockBytes);
    return cache.readInto(id, run, span.end - span.start, from - span.start, target);
  }

  async function cachedGet(
    range: ByteRange | undefined,
    options: CallOptions = {},
  ): Promise<Uint8Array> {
    const want = clampRange(range, size);
    const blocks = blocksCovering(want, blockBytes);
    if (blocks === null) return new Uint8Array(0);
    checkSignal(want, options.signal);
    const length = want.end - want.start;
    const lent = options.into;
    const out = lent && lent.length >= length ? lent.subarray(0, length) : new Uint8Array(length);
    /** Copies what `bytes` (starting at object offset `at`) holds of the wanted range; returns how much. */
    const place = (bytes: Uint8Array, at: number): number => {
      const from = Math.max(want.start, at);
      const to = Math.min(want.end, at + bytes.byteLength);
      out.set(bytes.subarray(from - at, to - at), from - want.start);
      return to - from;
    };

    let hits = 0;
    const missing: number[] = [];
    const extents = cache.extents(id);
    for (let index = blocks.first; index <= blocks.last;) {
      const extent = extentHolding(extents, index);
      const last = Math.min(extent?.last ?? index, blocks.last);
      const from = Math.max(want.start, blockSpan(index, size, blockBytes).start);
      const to = Math.min(want.end, blockSpan(last, size, blockBytes).end);
      const target = out.subarray(from - want.start, to - want.start);
      if (extent && readExtent(extent, from, target)) hits += to - from;
      else for (let miss = index; miss <= last; miss++) missing.push(miss);
      index = last + 1;
    }
    if (missing.length > 0) {
      checkSignal(want, options.signal);
      await Promise.all(
        runsOf(missing).map(async (run) =>
          place(await fetchRun(run, options.signal), runSpan(run, size, blockBytes).start),
        ),
      );
    }
    cache.touch(id);
    counters.bytesCached += hits;
    return out;
  }

  async function* cachedStream(range: ByteRange | undefined, options?: CallOptions) {
    for (const window of windowsOf(clampRange(range, size), blockBytes, WINDOW_BYTES)) {
      yield await cachedGet(window, options);
    }
  }

  return {
    ...pinned,
    counters,
    get: (k, range, options) =>
      k === key ? cachedGet(range, options) : store.get(k, range, options),
    getStream: (k, range, options) =>
      k === key ? cachedStream(range, options) : store.getStream(k, range, options),
    // The planned version's size needs no request: any fetch of it checks the version.
    head: (k, options) => (k === key ? Promise.resolve({ size, etag }) : store.head(k, options)),
  };
}
