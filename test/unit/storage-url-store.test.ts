/**
 * A task's store through presigned URLs, against the real loopback s3rver (with its signature
 * gate): ranged and pinned reads, writes, and what the store refuses: an expired URL, an altered
 * one, one signed for another object or method, and a key the task was given no URL for.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { presignUrl } from '../../durable-objects/storage/presign.ts';
import { createUrlStore, type ObjectStore } from '../../worker-agent/storage/index.ts';
import { closeTestStore, openTestStore, storageRejection, type TestS3 } from '../support/s3.ts';
import { taskStore } from '../support/task-urls.ts';

let s3: TestS3;
let sdk: ObjectStore;
const bytes = new Uint8Array(300_000).map((_, i) => i % 251);

beforeAll(async () => {
  ({ s3, store: sdk } = await openTestStore());
  await sdk.put('url-store/a.bin', bytes);
  await sdk.put('url-store/secret.bin', new TextEncoder().encode('not yours'));
}, 60_000);
afterAll(() => closeTestStore({ s3, store: sdk }));

const sign = (method: 'GET' | 'PUT', key: string, seconds = 600, now = new Date()) =>
  presignUrl(s3.access, method, key, seconds, now);

describe('a store of presigned URLs', { timeout: 60_000 }, () => {
  it('reads ranges and whole objects, pinned to an ETag, and writes what it may', async () => {
    const { etag } = await sdk.head('url-store/a.bin');
    const store = createUrlStore(taskStore(s3.access), {
      get: new Map([['url-store/a.bin', sign('GET', 'url-store/a.bin')]]),
      put: new Map([['url-store/out.bin', sign('PUT', 'url-store/out.bin')]]),
    });
    expect(await store.get('url-store/a.bin', { start: 1000, end: 1010 }, { etag })).toEqual(
      bytes.subarray(1000, 1010),
    );
    expect(await store.get('url-store/a.bin')).toEqual(bytes);
    expect(await store.head('url-store/a.bin')).toEqual({ size: bytes.byteLength, etag });
    const changed = await storageRejection(
      store.get('url-store/a.bin', { start: 0, end: 4 }, { etag: 'not-the-etag' }),
    );
    expect(changed.code).toBe('changed');
    await store.put('url-store/out.bin', bytes.subarray(0, 100), 'application/octet-stream');
    expect(await sdk.get('url-store/out.bin')).toEqual(bytes.subarray(0, 100));
  });

  it('refuses a key it has no URL for, and never lists or deletes', async () => {
    const store = createUrlStore(taskStore(s3.access), {});
    for (const call of [
      store.get('url-store/secret.bin'),
      store.put('url-store/secret.bin', bytes),
      store.delete('url-store/secret.bin'),
      (async () => {
        for await (const _ of store.list('url-store/')) return;
      })(),
    ]) {
      expect((await storageRejection(call)).code).toBe('access_denied');
    }
  });

  it('is refused by the store for another object, another method, an altered or expired URL', async () => {
    const url = sign('GET', 'url-store/a.bin');
    const other = url.replace('/url-store/a.bin?', '/url-store/secret.bin?');
    const altered = url.replace(/X-Amz-Expires=\d+/, 'X-Amz-Expires=604800');
    const expired = sign('GET', 'url-store/a.bin', 1, new Date(Date.now() - 60_000));
    for (const refused of [other, altered, expired]) {
      const store = createUrlStore(taskStore(s3.access), {
        get: new Map([['url-store/a.bin', refused]]),
      });
      const error = await storageRejection(store.get('url-store/a.bin'));
      expect(error.code).toBe('access_denied');
      expect(error.message).not.toContain('X-Amz-Signature');
    }
    // A PUT URL does not read, nor a GET URL write.
    const status = async (answer: Promise<Response>) => {
      const response = await answer;
      await response.arrayBuffer();
      return response.status;
    };
    expect(await status(fetch(sign('PUT', 'url-store/a.bin')))).toBe(403);
    expect(await status(fetch(url, { method: 'PUT', body: 'overwritten' }))).toBe(403);
    expect(await sdk.get('url-store/a.bin')).toEqual(bytes);
    // The URL itself still reads its object.
    expect(await status(fetch(url))).toBe(200);
  });
});

describe('a store of presigned URLs, on a slow server', () => {
  /** Serves `chunks` pieces of 4 bytes, one every 100 ms, then ends unless `stall`. */
  async function slowServer(chunks: number, stall: boolean) {
    const server = createServer((_req, res) => {
      res.writeHead(200);
      let sent = 0;
      const timer = setInterval(() => {
        if (sent === chunks) {
          clearInterval(timer);
          if (!stall) res.end();
          return;
        }
        sent++;
        res.write('abcd');
      }, 100);
      res.on('close', () => clearInterval(timer));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/bucket/k`;
    return {
      url,
      close: () => {
        server.closeAllConnections();
        server.close();
      },
    };
  }

  it('keeps reading a body that streams past the timeout while it moves, and times out one that stops', async () => {
    const moving = await slowServer(8, false);
    const stalled = await slowServer(2, true);
    try {
      const open = (url: string) =>
        createUrlStore({ bucket: 'bucket' }, { get: new Map([['k', url]]) }, { timeoutMs: 400 });
      const body = await open(moving.url).get('k');
      expect(new TextDecoder().decode(body)).toBe('abcd'.repeat(8));
      const error = await storageRejection(open(stalled.url).get('k'));
      expect(error.code).toBe('timeout');
      expect(error.message).toMatch(/no answer within 0.4 s/);
    } finally {
      moving.close();
      stalled.close();
    }
  });
});
