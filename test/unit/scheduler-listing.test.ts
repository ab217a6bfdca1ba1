/** The Scheduler's input listing against a real s3rver: pages, its own folders jumped over, the cap. */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { S3Client } from '@aws-sdk/client-s3';
import { internalFolder } from '../../durable-objects/aggregate-plan.ts';
import type { StoreRow } from '../../durable-objects/db/object-stores.ts';
import { listAll } from '../../durable-objects/storage/s3.ts';
import { createObjectStore } from '../../worker-agent/storage/object-store.ts';
import { startTestS3, TEST_BUCKET, type TestS3 } from '../support/s3.ts';

let s3: TestS3;
let row: StoreRow;

const INPUTS = ['in/_tmx.parquet', 'in/a.parquet', 'in/b/c.parquet', 'in/z.parquet'];
const INTERNAL = [
  ...Array.from(
    { length: 12 },
    (_, i) => `in/_tm/jobs/j${String(i).padStart(2, '0')}/result.arrow`,
  ),
  'in/b/_tm/jobs/j/result.arrow',
];

beforeAll(async () => {
  s3 = await startTestS3();
  const store = createObjectStore(s3.access);
  for (const key of [...INPUTS, ...INTERNAL]) await store.put(key, new Uint8Array([1]));
  store.close();
  row = {
    id: 'store-1',
    name: TEST_BUCKET,
    url: `s3://${TEST_BUCKET}`,
    bucket: TEST_BUCKET,
    prefix: '',
    endpoint: s3.endpoint,
    region: s3.access.region,
    force_path_style: 1,
    access_key_id: s3.access.credentials!.accessKeyId,
    secret_access_key: s3.access.credentials!.secretAccessKey,
    session_token: null,
    created_at: 0,
  };
}, 60_000);
afterAll(() => s3?.cleanup());

const skipFolder = (key: string) => internalFolder(key, 'in/');

describe('listAll', () => {
  it('lists every page, and leaves out its own folders at any depth by jumping past them', async () => {
    const send = vi.spyOn(S3Client.prototype, 'send');
    try {
      const listing = await listAll(row, 'in/', { max: 100, skipFolder, pageSize: 2 });
      expect(listing.objects.map((o) => o.key)).toEqual(INPUTS);
      expect(listing.more).toBe(false);
      // The first page ends inside in/_tm/ and the next starts past it; 9 pages would list it all.
      expect(send).toHaveBeenCalledTimes(4);
    } finally {
      send.mockRestore();
    }
  });

  it('lists everything without a folder to skip', async () => {
    const listing = await listAll(row, 'in/', { max: 100, pageSize: 5 });
    expect(listing.objects.map((o) => o.key).sort()).toEqual([...INPUTS, ...INTERNAL].sort());
  });

  it('says when there are more objects than asked for, and keeps the first of them', async () => {
    const capped = await listAll(row, 'in/', { max: 3, skipFolder, pageSize: 2 });
    expect(capped).toMatchObject({ more: true });
    expect(capped.objects.map((o) => o.key)).toEqual(INPUTS.slice(0, 3));
    const exact = await listAll(row, 'in/', { max: 4, skipFolder, pageSize: 2 });
    expect(exact).toMatchObject({ more: false, objects: INPUTS.map((key) => ({ key })) });
  });
});
