/** The Scheduler's own object reads are bounded: an object over the limit is refused, never read whole. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getObjectBounded, ObjectTooLargeError } from '../../durable-objects/storage/s3.ts';
import type { StoreRow } from '../../durable-objects/db/object-stores.ts';
import { LOCAL_S3_CREDENTIALS } from '../../cli/local/s3-server.ts';
import { startTestS3, TEST_BUCKET, type TestS3 } from '../support/s3.ts';

let s3: TestS3;
let row: StoreRow;

async function put(key: string, bytes: Uint8Array): Promise<void> {
  const client = new S3Client({
    region: 'us-east-1',
    endpoint: s3.endpoint,
    forcePathStyle: true,
    credentials: LOCAL_S3_CREDENTIALS,
  });
  await client.send(new PutObjectCommand({ Bucket: TEST_BUCKET, Key: key, Body: bytes }));
  client.destroy();
}

beforeAll(async () => {
  s3 = await startTestS3();
  row = {
    id: 'store-1',
    name: 'test',
    url: `s3://${TEST_BUCKET}`,
    bucket: TEST_BUCKET,
    prefix: '',
    endpoint: s3.endpoint,
    region: 'us-east-1',
    force_path_style: 1,
    access_key_id: LOCAL_S3_CREDENTIALS.accessKeyId,
    secret_access_key: LOCAL_S3_CREDENTIALS.secretAccessKey,
    session_token: null,
    created_at: 0,
  };
  await put('small', new Uint8Array(1000).fill(7));
  await put('exact', new Uint8Array(4096).fill(1));
  await put('large', new Uint8Array(3 * 1024 * 1024).fill(9));
  await put('empty', new Uint8Array());
});

afterAll(() => s3?.cleanup());

describe('getObjectBounded', () => {
  it('reads an object within the limit whole, up to exactly the limit', async () => {
    expect(await getObjectBounded(row, 'small', 4096)).toEqual(new Uint8Array(1000).fill(7));
    expect((await getObjectBounded(row, 'exact', 4096)).byteLength).toBe(4096);
    expect((await getObjectBounded(row, 'empty', 4096)).byteLength).toBe(0);
  });

  it('refuses an object over the limit, naming its size and the limit', async () => {
    const error = await getObjectBounded(row, 'large', 4096).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ObjectTooLargeError);
    expect(error).toMatchObject({ key: 'large', size: 3 * 1024 * 1024, limit: 4096 });
    expect(String(error)).toMatch(/object large is 3145728 bytes; at most 4096 are read/);
  });
});
