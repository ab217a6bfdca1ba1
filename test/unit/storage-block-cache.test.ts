/** The agent's block cache against a real s3rver: exact bytes, hits without requests, misses, trim, ETags. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import {
  createObjectStore,
  StorageError,
  type ObjectStore,
} from '../../worker-agent/storage/index.ts';
import {
  blockSpan,
  blocksCovering,
  clampRange,
  runSpan,
  runsOf,
  windowsOf,
} from '../../worker-agent/storage/block-ranges.ts';
import { describeError } from '../../worker-agent/storage/describe-error.ts';
import { startTestS3, type TestS3 } from '../support/s3.ts';

let s3: TestS3;
let store: ObjectStore;

beforeAll(async () => {
  s3 = await startTestS3();
  store = createObjectStore(s3.access);
}, 60_000);
afterAll(async () => {
  store?.close();
  await s3?.cleanup();
});

async function rejection(promise: Promise<unknown>): Promise<StorageError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(StorageError);
  return error as StorageError;
}

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
      const error = await rejection(call());
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
