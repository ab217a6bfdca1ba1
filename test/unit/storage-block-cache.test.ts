/** The agent's block cache against a real s3rver: exact bytes, hits without requests, misses, trim, ETags. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import {
  createObjectStore,
  StorageError,
  type ObjectStore,
} from '../../worker-agent/storage/index.ts';
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
