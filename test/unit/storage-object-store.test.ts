/** The agent's object store against a real s3rver: round trips, ranges, streams, listing, not found. */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { S3Client } from '@aws-sdk/client-s3';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ObjectStore } from '../../worker-agent/storage/index.ts';
import { createObjectStore } from '../../worker-agent/storage/object-store.ts';
import { clientTimeouts } from '../../worker-agent/storage/s3-client.ts';
import { S3Clients } from '../../worker-agent/storage/s3-clients.ts';
import { closeTestStore, openTestStore, storageRejection, type TestS3 } from '../support/s3.ts';

let s3: TestS3;
let store: ObjectStore;

beforeAll(async () => ({ s3, store } = await openTestStore()), 60_000);
afterAll(() => closeTestStore({ s3, store }));

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
/** s3rver's ETag of a single-part object: the MD5 of its bytes (head returns it unquoted). */
const md5 = (bytes: Uint8Array | string) => createHash('md5').update(bytes).digest('hex');

describe('object store round trips', { timeout: 60_000 }, () => {
  it('puts, gets, heads and deletes an object', async () => {
    await store.put('rt/hello.txt', new TextEncoder().encode('hello, world'), 'text/plain');
    expect(text(await store.get('rt/hello.txt'))).toBe('hello, world');
    expect(await store.head('rt/hello.txt')).toEqual({ size: 12, etag: md5('hello, world') });
    await store.delete('rt/hello.txt');
    expect((await storageRejection(store.head('rt/hello.txt'))).code).toBe('not_found');
    // Deleting what is gone is fine, as in S3.
    await store.delete('rt/hello.txt');
  });

  it('reads byte ranges with an exclusive end', async () => {
    await store.put('rt/digits', new TextEncoder().encode('0123456789'));
    expect(text(await store.get('rt/digits', { start: 0, end: 1 }))).toBe('0');
    expect(text(await store.get('rt/digits', { start: 3, end: 7 }))).toBe('3456');
    expect(text(await store.get('rt/digits', { start: 6, end: 10 }))).toBe('6789');
    expect(await store.get('rt/digits', { start: 4, end: 4 })).toEqual(new Uint8Array(0));
    await expect(store.get('rt/digits', { start: 5, end: 2 })).rejects.toThrow(RangeError);
  });

  it('keeps a 5 MB object byte for byte through get, getStream, ranges and download', async () => {
    const bytes = new Uint8Array(randomBytes(5 * 1024 * 1024));
    await store.put('rt/big.bin', bytes, 'application/octet-stream');
    expect(await store.head('rt/big.bin')).toEqual({ size: bytes.length, etag: md5(bytes) });
    expect(Buffer.from(await store.get('rt/big.bin')).equals(Buffer.from(bytes))).toBe(true);

    const chunks: Uint8Array[] = [];
    for await (const chunk of store.getStream('rt/big.bin')) chunks.push(chunk);
    expect(chunks.length).toBeGreaterThan(1);
    expect(Buffer.concat(chunks).equals(Buffer.from(bytes))).toBe(true);

    const start = 3 * 1024 * 1024 + 17;
    const middle = await store.get('rt/big.bin', { start, end: start + 100_000 });
    expect(Buffer.from(middle).equals(Buffer.from(bytes.subarray(start, start + 100_000)))).toBe(
      true,
    );

    const file = join(s3.tempDir, 'big.bin');
    expect(await store.download('rt/big.bin', file)).toBe(bytes.length);
    expect((await readFile(file)).equals(Buffer.from(bytes))).toBe(true);
  });

  it('lists every object under a prefix, across pages', async () => {
    const keys = Array.from({ length: 1_001 }, (_, i) => `list/item-${String(i).padStart(4, '0')}`);
    for (let i = 0; i < keys.length; i += 50) {
      await Promise.all(
        keys.slice(i, i + 50).map((key) => store.put(key, new Uint8Array([1, 2, 3]))),
      );
    }
    await store.put('listless/other', new Uint8Array([1]));
    const listed: { key: string; size: number }[] = [];
    for await (const entry of store.list('list/')) listed.push(entry);
    expect(listed.map((entry) => entry.key).sort()).toEqual(keys);
    expect(listed.every((entry) => entry.size === 3)).toBe(true);
    const none: unknown[] = [];
    for await (const entry of store.list('nothing-here/')) none.push(entry);
    expect(none).toEqual([]);
  });

  it('says not_found, naming bucket and key, for a missing object in every call', async () => {
    const file = join(s3.tempDir, 'missing.bin');
    for (const call of [
      () => store.get('missing/object.bin'),
      () => store.head('missing/object.bin'),
      () => store.download('missing/object.bin', file),
    ]) {
      const error = await storageRejection(call());
      expect(error.code).toBe('not_found');
      expect(error.message).toContain('s3://test-bucket/missing/object.bin');
      expect(error.details).toMatchObject({
        bucket: 'test-bucket',
        key: 'missing/object.bin',
        status: 404,
      });
    }
    expect(existsSync(file)).toBe(false);
  });

  it('says not_found for a missing bucket', async () => {
    const other = createObjectStore({ ...s3.access, bucket: 'no-such-bucket' });
    try {
      const error = await storageRejection(other.get('key'));
      expect(error.code).toBe('not_found');
      expect(error.message).toContain('no-such-bucket');
    } finally {
      other.close();
    }
  });
});

describe('S3 clients shared by the stores of an agent thread', { timeout: 60_000 }, () => {
  const bytes = (value: string) => new TextEncoder().encode(value);
  // Another store access to the same server: a client of its own.
  const otherAccess = () => ({ ...s3.access, region: 'eu-west-1' });

  it('gives the stores of one access one client, taken on the first request, outliving the first store closed', async () => {
    const clients = new S3Clients(clientTimeouts(10_000));
    const first = createObjectStore(s3.access, { clients });
    const second = createObjectStore(s3.access, { clients });
    expect(clients.size).toBe(0);
    await first.put('shared/first', bytes('first'));
    await second.put('shared/second', bytes('second'));
    expect(clients.size).toBe(1);
    first.close();
    expect(text(await second.get('shared/first'))).toBe('first');
    second.close();
    const other = createObjectStore(otherAccess(), { clients });
    expect(text(await other.get('shared/second'))).toBe('second');
    expect(clients.size).toBe(2);
    other.close();
    clients.close();
    expect(clients.size).toBe(0);
  });

  it('keeps at most `most` clients, and destroys one pushed out only once no store holds it', async () => {
    const destroyed = vi.spyOn(S3Client.prototype, 'destroy');
    try {
      const clients = new S3Clients(clientTimeouts(10_000), 1);
      const held = createObjectStore(s3.access, { clients });
      await held.put('shared/held', bytes('held'));
      const other = createObjectStore(otherAccess(), { clients });
      await other.put('shared/other', bytes('other'));
      expect(clients.size).toBe(1);
      // Out of the pool, the first client still serves the store that holds it.
      expect(destroyed).not.toHaveBeenCalled();
      expect(text(await held.get('shared/other'))).toBe('other');
      held.close();
      expect(destroyed).toHaveBeenCalledTimes(1);
      other.close();
      expect(destroyed).toHaveBeenCalledTimes(1);
      clients.close();
      expect(destroyed).toHaveBeenCalledTimes(2);
    } finally {
      destroyed.mockRestore();
    }
  });
});
