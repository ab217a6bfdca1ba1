/** The agent's block cache against a real s3rver: exact bytes, hits without requests, misses, trim, ETags. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, readdir, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  BlockCache,
  cachedStore,
  type ByteRange,
  type CallOptions,
  type ObjectStore,
  type PlannedObject,
} from '../../worker-agent/storage/index.ts';
import { cacheId } from '../../worker-agent/storage/block-cache.ts';
import { CACHE_KEY_FILE, loadCacheKey } from '../../worker-agent/storage/cache-key.ts';
import {
  blockSpan,
  blocksCovering,
  clampRange,
  extentHolding,
  extentName,
  parseExtent,
  runSpan,
  runsOf,
  windowsOf,
} from '../../worker-agent/storage/block-ranges.ts';
import { describeError } from '../../worker-agent/storage/describe-error.ts';
import { sealedLength } from '../../worker-agent/storage/extent-seal.ts';
import { closeTestStore, openTestStore, storageRejection, type TestS3 } from '../support/s3.ts';

let s3: TestS3;
let store: ObjectStore;

beforeAll(async () => ({ s3, store } = await openTestStore()), 60_000);
afterAll(() => closeTestStore({ s3, store }));

describe('reads pinned to an ETag', { timeout: 60_000 }, () => {
  it('fails with changed, naming the key and both ETags, once the object was overwritten', async () => {
    const key = 'etag/object.bin';
    await store.put(key, new Uint8Array(randomBytes(1000)));
    const planned = (await store.head(key)).etag;
    expect(planned).toMatch(/^[0-9a-f]{32}$/);
    const fresh = new Uint8Array(randomBytes(1000));
    await store.put(key, fresh);
    const now = (await store.head(key)).etag;
    expect(now).not.toBe(planned);

    for (const call of [
      () => store.get(key, { start: 10, end: 20 }, { etag: planned }),
      () => store.get(key, undefined, { etag: `"${planned}"` }),
    ]) {
      const error = await storageRejection(call());
      expect(error.code).toBe('changed');
      expect(error.message).toContain(`s3://test-bucket/${key}`);
      expect(error.message).toContain(
        `the object changed after the job was planned (ETag now ${now}, planned ${planned}); submit the job again`,
      );
      expect(error.details).toMatchObject({ bucket: 'test-bucket', key });
    }
    const range = await store.get(key, { start: 10, end: 20 }, { etag: now });
    expect(Buffer.from(range).equals(Buffer.from(fresh.subarray(10, 20)))).toBe(true);
    expect(Buffer.from(await store.get(key, undefined, { etag: `"${now}"` }))).toEqual(
      Buffer.from(fresh),
    );
  });

  it('says changed for the 412 PreconditionFailed that real S3 and R2 send', () => {
    const sdkError = Object.assign(
      new Error('At least one of the pre-conditions you specified did not hold'),
      {
        name: 'PreconditionFailed',
        $metadata: { httpStatusCode: 412 },
      },
    );
    const error = describeError(sdkError, {
      operation: 'read',
      bucket: 'b',
      key: 'data/part-0.parquet',
      timeoutMs: 30_000,
      secrets: [],
      etag: 'abc',
    });
    expect(error.code).toBe('changed');
    expect(error.message).toBe(
      'read s3://b/data/part-0.parquet: the object changed after the job was planned (planned ETag abc); submit the job again',
    );
    expect(error.details).toMatchObject({ status: 412, reason: 'PreconditionFailed' });
  });
});

/** The store with every get recorded: how many S3 requests, which ranges, pinned to which ETag. */
function counting(inner: ObjectStore) {
  const gets: { key: string; range: ByteRange | undefined; etag: string | undefined }[] = [];
  const store: ObjectStore = {
    ...inner,
    get(key, range, options?: CallOptions) {
      gets.push({ key, range, etag: options?.etag });
      return inner.get(key, range, options);
    },
  };
  return { store, gets };
}

/** Deterministic pseudo-random numbers (mulberry32), so a failure can be replayed. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomRanges(count: number, size: number, seed: number): ByteRange[] {
  const next = random(seed);
  return Array.from({ length: count }, () => {
    const start = Math.floor(next() * size);
    return { start, end: Math.min(size, start + 1 + Math.floor(next() * size * 0.3)) };
  });
}

const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));
const byRange = (a: ByteRange | undefined, b: ByteRange | undefined) =>
  (a?.start ?? 0) - (b?.start ?? 0);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Puts random bytes at `key` and returns them with the object as the control plane would list it. */
async function upload(
  key: string,
  size: number,
): Promise<{ bytes: Uint8Array; object: PlannedObject }> {
  const bytes = new Uint8Array(randomBytes(size));
  await store.put(key, bytes);
  const { etag } = await store.head(key);
  if (etag === undefined) throw new Error('s3rver sent no ETag');
  return { bytes, object: { key, size, etag } };
}

async function cacheDir(): Promise<string> {
  return mkdtemp(join(s3.tempDir, 'cache-'));
}

describe('block arithmetic', () => {
  it('spans blocks, with a short last block', () => {
    expect(blockSpan(0, 2500, 1000)).toEqual({ start: 0, end: 1000 });
    expect(blockSpan(1, 2500, 1000)).toEqual({ start: 1000, end: 2000 });
    expect(blockSpan(2, 2500, 1000)).toEqual({ start: 2000, end: 2500 });
    expect(blockSpan(1, 2000, 1000)).toEqual({ start: 1000, end: 2000 });
  });

  it('finds the blocks covering a range', () => {
    expect(blocksCovering({ start: 0, end: 1 }, 1000)).toEqual({ first: 0, last: 0 });
    expect(blocksCovering({ start: 0, end: 1000 }, 1000)).toEqual({ first: 0, last: 0 });
    expect(blocksCovering({ start: 999, end: 1001 }, 1000)).toEqual({ first: 0, last: 1 });
    expect(blocksCovering({ start: 1000, end: 1001 }, 1000)).toEqual({ first: 1, last: 1 });
    expect(blocksCovering({ start: 2400, end: 2500 }, 1000)).toEqual({ first: 2, last: 2 });
    expect(blocksCovering({ start: 17, end: 1_000_000 }, 1000)).toEqual({ first: 0, last: 999 });
    expect(blocksCovering({ start: 500, end: 500 }, 1000)).toBeNull();
  });

  it('names extents by their runs, and finds the one holding a block that reaches furthest', () => {
    expect(extentName({ first: 3, last: 17 })).toBe('3-17');
    expect(parseExtent('3-17')).toEqual({ first: 3, last: 17 });
    for (const other of ['3-17.5f0e.tmp', '17-3', '3', '-1-2', 'a-b', '']) {
      expect(parseExtent(other)).toBeNull();
    }
    const extents = [
      { first: 0, last: 4 },
      { first: 2, last: 9 },
      { first: 12, last: 12 },
    ];
    expect(extentHolding(extents, 1)).toEqual({ first: 0, last: 4 });
    expect(extentHolding(extents, 3)).toEqual({ first: 2, last: 9 });
    expect(extentHolding(extents, 12)).toEqual({ first: 12, last: 12 });
    expect(extentHolding(extents, 10)).toBeUndefined();
    expect(extentHolding([], 0)).toBeUndefined();
  });

  it('coalesces missing blocks into runs of consecutive ones', () => {
    expect(runsOf([])).toEqual([]);
    expect(runsOf([4])).toEqual([{ first: 4, last: 4 }]);
    expect(runsOf([0, 1, 2, 3])).toEqual([{ first: 0, last: 3 }]);
    expect(runsOf([1, 2, 3, 7, 9, 10])).toEqual([
      { first: 1, last: 3 },
      { first: 7, last: 7 },
      { first: 9, last: 10 },
    ]);
    expect(runSpan({ first: 1, last: 2 }, 2500, 1000)).toEqual({ start: 1000, end: 2500 });
    expect(runSpan({ first: 0, last: 0 }, 2500, 1000)).toEqual({ start: 0, end: 1000 });
  });

  it('clamps ranges to the object and rejects what the store rejects', () => {
    expect(clampRange(undefined, 2500)).toEqual({ start: 0, end: 2500 });
    expect(clampRange({ start: 2000, end: 9000 }, 2500)).toEqual({ start: 2000, end: 2500 });
    expect(clampRange({ start: 3000, end: 9000 }, 2500)).toEqual({ start: 2500, end: 2500 });
    expect(() => clampRange({ start: 5, end: 2 }, 2500)).toThrow(RangeError);
    expect(() => clampRange({ start: -1, end: 2 }, 2500)).toThrow(RangeError);
    expect(() => clampRange({ start: 0.5, end: 2 }, 2500)).toThrow(RangeError);
  });

  it('cuts windows that end on block boundaries', () => {
    expect(windowsOf({ start: 0, end: 0 }, 1000, 3000)).toEqual([]);
    expect(windowsOf({ start: 0, end: 7500 }, 1000, 3000)).toEqual([
      { start: 0, end: 3000 },
      { start: 3000, end: 6000 },
      { start: 6000, end: 7500 },
    ]);
    expect(windowsOf({ start: 1500, end: 7000 }, 1000, 3000)).toEqual([
      { start: 1500, end: 4000 },
      { start: 4000, end: 7000 },
    ]);
    // A window smaller than a block still moves a block at a time.
    expect(windowsOf({ start: 10, end: 2100 }, 1000, 10)).toEqual([
      { start: 10, end: 1000 },
      { start: 1000, end: 2000 },
      { start: 2000, end: 2100 },
    ]);
  });
});

describe('cached reads', { timeout: 60_000 }, () => {
  it('reads cold exactly what the store reads, then again from disk with no request', async () => {
    const blockBytes = 4096;
    const size = 20 * blockBytes + 1234;
    const { bytes, object } = await upload('cache/cold.bin', size);
    const cache = new BlockCache({ dir: await cacheDir(), maxBytes: 1 << 30, blockBytes });
    const ranges: (ByteRange | undefined)[] = [
      ...randomRanges(60, size, 1),
      undefined,
      { start: size - 1234, end: size },
      { start: size - 1, end: size },
      { start: size - 1300, end: size - 5 },
      { start: 0, end: 1 },
      { start: blockBytes - 1, end: blockBytes + 1 },
    ];

    const cold = counting(store);
    const first = cachedStore(cold.store, cache, object);
    for (const range of ranges) {
      const got = await first.get(object.key, range);
      expect(same(got, await store.get(object.key, range))).toBe(true);
      expect(same(got, bytes.subarray(range?.start ?? 0, range?.end ?? size))).toBe(true);
    }
    expect(cold.gets.length).toBeGreaterThan(0);
    expect(cold.gets.every((get) => get.etag === object.etag)).toBe(true);

    const warm = counting(store);
    const second = cachedStore(warm.store, cache, object);
    let requested = 0;
    for (const range of ranges) {
      const got = await second.get(object.key, range);
      expect(same(got, bytes.subarray(range?.start ?? 0, range?.end ?? size))).toBe(true);
      requested += got.byteLength;
    }
    expect(warm.gets).toEqual([]);
    expect(second.counters.bytesCached).toBe(requested);
  });

  it('reads into the room a caller lends, cold and warm, and into a new array when it is too small', async () => {
    const blockBytes = 4096;
    const size = 12 * blockBytes + 99;
    const { bytes, object } = await upload('cache/lent.bin', size);
    const cache = new BlockCache({ dir: await cacheDir(), maxBytes: 1 << 30, blockBytes });
    const room = new Uint8Array(size).fill(0xee);
    for (const round of ['cold', 'warm']) {
      const cached = cachedStore(store, cache, object);
      for (const range of randomRanges(20, size, round === 'cold' ? 3 : 4)) {
        const got = await cached.get(object.key, range, { into: room });
        expect(got.buffer).toBe(room.buffer);
        expect(got.byteOffset).toBe(0);
        expect(same(got, bytes.subarray(range.start, range.end))).toBe(true);
      }
      const small = new Uint8Array(10);
      const whole = await cached.get(object.key, { start: 0, end: 100 }, { into: small });
      expect(whole.buffer).not.toBe(small.buffer);
      expect(same(whole, bytes.subarray(0, 100))).toBe(true);
    }
  });

  it('clamps to the object, returns empty ranges without a request, and streams in windows', async () => {
    const size = 9 * 1024 * 1024 + 777;
    const { bytes, object } = await upload('cache/stream.bin', size);
    const cache = new BlockCache({ dir: await cacheDir(), maxBytes: 1 << 30 });
    const cold = counting(store);
    const cached = cachedStore(cold.store, cache, object);
    expect(await cached.get(object.key, { start: 100, end: 100 })).toEqual(new Uint8Array(0));
    expect(await cached.get(object.key, { start: size + 5, end: size + 10 })).toEqual(
      new Uint8Array(0),
    );
    expect(cold.gets).toEqual([]);
    const tail = await cached.get(object.key, { start: size - 10, end: size + 100 });
    expect(same(tail, bytes.subarray(size - 10))).toBe(true);

    const chunks: Uint8Array[] = [];
    for await (const chunk of cached.getStream(object.key)) chunks.push(chunk);
    expect(chunks.map((chunk) => chunk.byteLength)).toEqual([4 << 20, 4 << 20, (1 << 20) + 777]);
    expect(same(Buffer.concat(chunks), bytes)).toBe(true);
    // Each window is one request; the last block was cached by the tail read above.
    expect(cold.gets.map((get) => get.range)).toEqual([
      { start: size - 777, end: size },
      { start: 0, end: 4 << 20 },
      { start: 4 << 20, end: 8 << 20 },
      { start: 8 << 20, end: size - 777 },
    ]);

    const warm = counting(store);
    const again = cachedStore(warm.store, cache, object);
    const start = 3 * 1024 * 1024 + 5;
    const streamed: Uint8Array[] = [];
    for await (const chunk of again.getStream(object.key, { start, end: size - 3 })) {
      streamed.push(chunk);
    }
    expect(same(Buffer.concat(streamed), bytes.subarray(start, size - 3))).toBe(true);
    expect(warm.gets).toEqual([]);
    expect(again.counters.bytesCached).toBe(size - 3 - start);
  });

  it('fetches only the missing runs of a partly cached range, and counts only hit bytes', async () => {
    const blockBytes = 1000;
    const size = 10_500;
    const { bytes, object } = await upload('cache/partial.bin', size);
    const cache = new BlockCache({ dir: await cacheDir(), maxBytes: 1 << 30, blockBytes });
    const inner = counting(store);
    const cached = cachedStore(inner.store, cache, object);

    await cached.get(object.key, { start: 2000, end: 4000 });
    await cached.get(object.key, { start: 6100, end: 6200 });
    expect(inner.gets.map((get) => get.range)).toEqual([
      { start: 2000, end: 4000 },
      { start: 6000, end: 7000 },
    ]);
    expect(cached.counters.bytesCached).toBe(0);

    inner.gets.length = 0;
    const got = await cached.get(object.key, { start: 1500, end: 10_500 });
    expect(same(got, bytes.subarray(1500))).toBe(true);
    expect(inner.gets.map((get) => get.range).sort(byRange)).toEqual([
      { start: 1000, end: 2000 },
      { start: 4000, end: 6000 },
      { start: 7000, end: 10_500 },
    ]);
    expect(inner.gets.every((get) => get.key === object.key && get.etag === object.etag)).toBe(
      true,
    );
    // Blocks 2, 3 and 6 were on disk.
    expect(cached.counters.bytesCached).toBe(3000);

    inner.gets.length = 0;
    await cached.get(object.key, { start: 1999, end: 2001 });
    expect(inner.gets).toEqual([]);
    expect(cached.counters.bytesCached).toBe(3002);
  });

  it('keeps each fetched run as one extent file, and refetches a damaged or deleted one', async () => {
    const blockBytes = 1000;
    const size = 7300;
    const { bytes, object } = await upload('cache/damaged.bin', size);
    const dir = await cacheDir();
    const cache = new BlockCache({ dir, maxBytes: 1 << 30, blockBytes });
    const cold = cachedStore(store, cache, object);
    for (const [start, end] of [
      [0, 3000],
      [3000, 5000],
      [5000, size],
    ] as const)
      await cold.get(object.key, { start, end });
    const id = cacheId({ endpoint: store.endpoint, bucket: store.bucket, ...object });
    const files = async () => (await readdir(join(dir, id))).sort();
    expect(await files()).toEqual(['0-2', '3-4', '5-7']);

    await truncate(join(dir, id, '3-4'), 10);
    await rm(join(dir, id, '5-7'));
    const inner = counting(store);
    const cached = cachedStore(inner.store, cache, object);
    expect(same(await cached.get(object.key), bytes)).toBe(true);
    // Blocks 3..7 were missing: one request, one new extent; the damaged one is gone.
    expect(inner.gets.map((get) => get.range)).toEqual([{ start: 3000, end: size }]);
    expect(cached.counters.bytesCached).toBe(3000);
    expect(await files()).toEqual(['0-2', '3-7']);

    inner.gets.length = 0;
    expect(
      same(await cached.get(object.key, { start: 2500, end: size }), bytes.subarray(2500)),
    ).toBe(true);
    expect(inner.gets).toEqual([]);
  });

  it('deletes a damaged extent, so the shorter run fetched again is not shadowed by it', async () => {
    const blockBytes = 1000;
    const { bytes, object } = await upload('cache/shadow.bin', 8000);
    const dir = await cacheDir();
    const cache = new BlockCache({ dir, maxBytes: 1 << 30, blockBytes });
    await cachedStore(store, cache, object).get(object.key);
    const id = cacheId({ endpoint: store.endpoint, bucket: store.bucket, ...object });
    await truncate(join(dir, id, '0-7'), 100);
    for (let round = 0; round < 2; round++) {
      const inner = counting(store);
      const got = await cachedStore(inner.store, cache, object).get(object.key, {
        start: 3000,
        end: 5000,
      });
      expect(same(got, bytes.subarray(3000, 5000))).toBe(true);
      expect(inner.gets.length).toBe(round === 0 ? 1 : 0);
    }
  });

  it('keeps other versions and sizes of the same key apart', async () => {
    const blockBytes = 1000;
    const { object } = await upload('cache/versions.bin', 5000);
    const dir = await cacheDir();
    const cache = new BlockCache({ dir, maxBytes: 1 << 30, blockBytes });
    await cachedStore(store, cache, object).get(object.key);

    // Another ETag shares nothing: it goes to the store, which says the object is not that version.
    const other = counting(store);
    const error = await storageRejection(
      cachedStore(other.store, cache, { ...object, etag: 'ffffffffffffffffffffffffffffffff' }).get(
        object.key,
        { start: 0, end: 10 },
      ),
    );
    expect(error.code).toBe('changed');
    expect(other.gets).toHaveLength(1);

    // Another size shares nothing either.
    const smaller = counting(store);
    await cachedStore(smaller.store, cache, { ...object, size: 4500 }).get(object.key);
    expect(smaller.gets.map((get) => get.range)).toEqual([{ start: 0, end: 4500 }]);
    expect(await readdir(dir)).toHaveLength(2);

    // A planned size beyond the object's end is caught, not cached as a short block.
    const larger = await storageRejection(
      cachedStore(store, cache, { ...object, size: 5500 }).get(object.key, {
        start: 4900,
        end: 5500,
      }),
    );
    expect(larger.code).toBe('changed');
    expect(larger.message).toContain('cache/versions.bin');
  });

  it('passes other keys and every other call to the store unchanged', async () => {
    const { object } = await upload('cache/main.bin', 3000);
    const { bytes: otherBytes } = await upload('cache/other.bin', 3000);
    const inner = counting(store);
    const cached = cachedStore(
      inner.store,
      new BlockCache({ dir: await cacheDir(), maxBytes: 1 << 30 }),
      object,
    );
    const got = await cached.get('cache/other.bin', { start: 5, end: 10 });
    expect(same(got, otherBytes.subarray(5, 10))).toBe(true);
    expect(inner.gets).toEqual([
      { key: 'cache/other.bin', range: { start: 5, end: 10 }, etag: undefined },
    ]);
    expect(await cached.head(object.key)).toEqual({ size: 3000, etag: object.etag });
    expect(cached.bucket).toBe(store.bucket);
    expect(cached.endpoint).toBe(store.endpoint);
    const listed: string[] = [];
    for await (const entry of cached.list('cache/ma')) listed.push(entry.key);
    expect(listed).toEqual(['cache/main.bin']);
    expect((await storageRejection(cached.get('cache/missing.bin'))).code).toBe('not_found');
  });

  it('stops before fetching once the signal fired', async () => {
    const { object } = await upload('cache/abort.bin', 3000);
    const inner = counting(store);
    const cached = cachedStore(
      inner.store,
      new BlockCache({ dir: await cacheDir(), maxBytes: 1 << 30 }),
      object,
    );
    const controller = new AbortController();
    controller.abort();
    const error = await storageRejection(
      cached.get(object.key, undefined, { signal: controller.signal }),
    );
    expect(error.code).toBe('aborted');
    expect(inner.gets).toEqual([]);
  });
});

describe('trim', { timeout: 60_000 }, () => {
  it('deletes least recently used objects down to 80% of the bound and keeps the newest', async () => {
    const blockBytes = 1000;
    const dir = await cacheDir();
    const cache = new BlockCache({ dir, maxBytes: 15_000, blockBytes });
    const objects: { bytes: Uint8Array; object: PlannedObject }[] = [];
    for (const name of ['a', 'b', 'c', 'd']) {
      // 4500 bytes: four full blocks and a short one, so sizes must be measured, not guessed.
      const uploaded = await upload(`trim/${name}.bin`, 4500);
      objects.push(uploaded);
      await cachedStore(store, cache, uploaded.object).get(uploaded.object.key);
      await sleep(30);
    }
    const idOf = (object: PlannedObject) =>
      cacheId({ endpoint: store.endpoint, bucket: store.bucket, ...object });
    const [a, b, c, d] = objects.map((o) => o.object) as [
      PlannedObject,
      PlannedObject,
      PlannedObject,
      PlannedObject,
    ];
    // Reading a again makes it the most recently used.
    await cachedStore(store, cache, a).get(a.key, { start: 0, end: 10 });

    // Each object's extent: its 4,500 bytes and five blocks' tags.
    const onDisk = sealedLength(4500, 5);
    expect(await new BlockCache({ dir, maxBytes: 4 * onDisk, blockBytes }).trim()).toEqual({
      bytes: 4 * onDisk,
      removed: 0,
    });
    expect(await cache.trim()).toEqual({ bytes: 2 * onDisk, removed: 2 });
    expect((await readdir(dir)).sort()).toEqual([idOf(a), idOf(d)].sort());

    for (const { bytes, object } of objects) {
      const inner = counting(store);
      const got = await cachedStore(inner.store, cache, object).get(object.key);
      expect(same(got, bytes)).toBe(true);
      expect(inner.gets.length).toBe(object === b || object === c ? 1 : 0);
    }
  });

  it('trims when due: at first, then once a tenth of the bound was written since', async () => {
    const blockBytes = 1000;
    const cache = new BlockCache({ dir: await cacheDir(), maxBytes: 20_000, blockBytes });
    expect(await cache.trimIfDue()).toEqual({ bytes: 0, removed: 0 });
    const small = await upload('trim-due/small.bin', 1500);
    await cachedStore(store, cache, small.object).get(small.object.key);
    // 1,500 bytes written: less than a tenth of 20,000, so no scan.
    expect(await cache.trimIfDue()).toBeNull();
    const more = await upload('trim-due/more.bin', 1000);
    await cachedStore(store, cache, more.object).get(more.object.key);
    expect(await cache.trimIfDue()).toEqual({
      bytes: sealedLength(1500, 2) + sealedLength(1000, 1),
      removed: 0,
    });
    expect(await cache.trimIfDue()).toBeNull();
  });

  it('finds nothing to trim in a cache that was never written', async () => {
    const cache = new BlockCache({ dir: join(s3.tempDir, 'never-created'), maxBytes: 1 });
    expect(await cache.trim()).toEqual({ bytes: 0, removed: 0 });
  });
});

describe('threads sharing a cache directory', { timeout: 120_000 }, () => {
  it('all read correct bytes while others write the same blocks and trim them away', async () => {
    const blockBytes = 1000;
    const size = 50_500;
    const { bytes, object } = await upload('shared/object.bin', size);
    const dir = await cacheDir();
    // Two instances, as two worker threads would have (with their pool's key), and a third that
    // trims whenever it can.
    const key = randomBytes(32);
    const readers = [
      new BlockCache({ dir, maxBytes: 1 << 30, blockBytes, key }),
      new BlockCache({ dir, maxBytes: 1 << 30, blockBytes, key }),
    ];
    const trimmer = new BlockCache({ dir, maxBytes: 10_000, blockBytes, key });
    const ranges = randomRanges(80, size, 7);
    const expected = (n: number) => bytes.subarray(ranges[n]!.start, ranges[n]!.end);

    let reading = true;
    let removed = 0;
    const trimming = (async () => {
      while (reading) {
        removed += (await trimmer.trim()).removed;
        await sleep(1);
      }
    })();
    const results = await Promise.all(
      ranges.map((range, n) => cachedStore(store, readers[n % 2]!, object).get(object.key, range)),
    ).finally(() => {
      reading = false;
    });
    await trimming;
    expect(results.every((got, n) => same(got, expected(n)))).toBe(true);
    expect(removed).toBeGreaterThan(0);

    // Blocks one instance wrote are hits for another.
    await cachedStore(store, readers[0]!, object).get(object.key);
    const inner = counting(store);
    const again = await Promise.all(
      ranges.map((range, n) =>
        cachedStore(inner.store, readers[n % 2]!, object).get(object.key, range),
      ),
    );
    expect(again.every((got, n) => same(got, expected(n)))).toBe(true);
    expect(inner.gets).toEqual([]);
  });
});

describe('checksums', { timeout: 60_000 }, () => {
  it('serves the true bytes when an extent was rewritten with its size kept, and says so once', async () => {
    const blockBytes = 1000;
    const size = 6500;
    const { bytes, object } = await upload('tamper/object.bin', size);
    const dir = await cacheDir();
    const warnings: string[] = [];
    const cache = new BlockCache({
      dir,
      maxBytes: 1 << 30,
      blockBytes,
      warn: (message) => warnings.push(message),
    });
    await cachedStore(store, cache, object).get(object.key, { start: 0, end: 3000 });
    await cachedStore(store, cache, object).get(object.key, { start: 3000, end: size });
    const id = cacheId({ endpoint: store.endpoint, bucket: store.bucket, ...object });
    // What a task without isolation could do: same length, other bytes.
    for (const name of ['0-2', '3-6']) {
      const file = join(dir, id, name);
      const forged = await readFile(file);
      forged.fill(0x41, 100, 900);
      await writeFile(file, forged);
    }
    const inner = counting(store);
    const got = await cachedStore(inner.store, cache, object).get(object.key, {
      start: 500,
      end: 4200,
    });
    expect(same(got, bytes.subarray(500, 4200))).toBe(true);
    // Both extents failed and are gone; the blocks the range needs came in one request.
    expect(inner.gets.map((get) => get.range)).toEqual([{ start: 0, end: 5000 }]);
    expect(cache.mismatches).toBe(2);
    expect(warnings).toHaveLength(1);
    // Fetched again, the blocks are hits once more.
    inner.gets.length = 0;
    const again = await cachedStore(inner.store, cache, object).get(object.key, {
      start: 500,
      end: 4200,
    });
    expect(same(again, bytes.subarray(500, 4200))).toBe(true);
    expect(inner.gets).toEqual([]);
  });

  it('refuses a genuine extent of another object, or one written under another key', async () => {
    const blockBytes = 1000;
    const one = await upload('tamper/one.bin', 3000);
    const two = await upload('tamper/two.bin', 3000);
    const dir = await cacheDir();
    const cache = new BlockCache({ dir, maxBytes: 1 << 30, blockBytes });
    await cachedStore(store, cache, one.object).get(one.object.key);
    await cachedStore(store, cache, two.object).get(two.object.key);
    const idOf = (object: PlannedObject) =>
      cacheId({ endpoint: store.endpoint, bucket: store.bucket, ...object });
    // Object one's extent, tags and all, copied over object two's.
    await writeFile(
      join(dir, idOf(two.object), '0-2'),
      await readFile(join(dir, idOf(one.object), '0-2')),
    );
    const inner = counting(store);
    const got = await cachedStore(inner.store, cache, two.object).get(two.object.key);
    expect(same(got, two.bytes)).toBe(true);
    expect(inner.gets).toHaveLength(1);
    expect(cache.mismatches).toBe(1);

    // Another process's key: a miss (fetched again), not a mismatch.
    const later = new BlockCache({ dir, maxBytes: 1 << 30, blockBytes });
    const fresh = counting(store);
    expect(
      same(await cachedStore(fresh.store, later, one.object).get(one.object.key), one.bytes),
    ).toBe(true);
    expect(fresh.gets).toHaveLength(1);
    expect(later.mismatches).toBe(0);
  });

  it('keeps its key in the cache dir, so a restarted agent reads its extents as hits', async () => {
    const blockBytes = 1000;
    const { bytes, object } = await upload('restart/object.bin', 3000);
    const dir = await cacheDir();
    const key = loadCacheKey(dir);
    const keyFile = join(dir, CACHE_KEY_FILE);
    expect((await stat(keyFile)).mode & 0o777).toBe(0o600);
    const before = new BlockCache({ dir, maxBytes: 1 << 30, blockBytes, key });
    await cachedStore(store, before, object).get(object.key);

    // The next process loads the same key, and the extents are hits with no request.
    const after = new BlockCache({ dir, maxBytes: 1 << 30, blockBytes, key: loadCacheKey(dir) });
    const inner = counting(store);
    expect(same(await cachedStore(inner.store, after, object).get(object.key), bytes)).toBe(true);
    expect(inner.gets).toEqual([]);

    // A key file others may read, or of the wrong size, is not trusted: a new key replaces it.
    await chmod(keyFile, 0o644);
    const replaced = loadCacheKey(dir);
    expect(Buffer.from(replaced).equals(Buffer.from(key))).toBe(false);
    expect((await stat(keyFile)).mode & 0o777).toBe(0o600);
    await writeFile(keyFile, randomBytes(16), { mode: 0o600 });
    expect(loadCacheKey(dir)).toHaveLength(32);
    expect(Buffer.from(loadCacheKey(dir)).equals(Buffer.from(replaced))).toBe(false);
  });
});
