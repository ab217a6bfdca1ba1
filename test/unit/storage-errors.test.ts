/** Storage failures: each gets its code and a message naming bucket and key, never a credential. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server, type Socket } from 'node:net';
import { inspect } from 'node:util';
import { StorageError } from '../../worker-agent/storage/index.ts';
import { createObjectStore } from '../../worker-agent/storage/object-store.ts';
import { redact } from '../../protocol/index.ts';
import { startTestS3, type TestS3 } from '../support/s3.ts';

let s3: TestS3;

beforeAll(async () => {
  s3 = await startTestS3();
  const store = createObjectStore(s3.access);
  await store.put('errors/object.txt', new TextEncoder().encode('content'));
  store.close();
}, 60_000);
afterAll(async () => s3?.cleanup());

async function failure(call: () => Promise<unknown>): Promise<StorageError> {
  const error = await call().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(StorageError);
  return error as StorageError;
}

/** Everything a log line or a crash report could show of an error. */
function everything(error: Error): string {
  return [
    error.message,
    String(error.stack),
    JSON.stringify(error),
    inspect(error, { depth: 20, showHidden: true }),
  ].join('\n');
}

describe('storage errors', { timeout: 60_000 }, () => {
  it('fails fast with unreachable when nothing listens at the endpoint', async () => {
    const store = createObjectStore({ ...s3.access, endpoint: 'http://127.0.0.1:1' });
    try {
      for (const call of [
        () => store.get('errors/object.txt'),
        () => store.head('errors/object.txt'),
      ]) {
        const error = await failure(call);
        expect(error.code).toBe('unreachable');
        expect(error.message).toBe(
          'cannot reach object store at http://127.0.0.1:1 (bucket test-bucket, key errors/object.txt): connection refused',
        );
      }
    } finally {
      store.close();
    }
  });

  it('says access_denied for unknown credentials, and never shows the secret, token or key id', async () => {
    const credentials = {
      accessKeyId: 'AKIDUNKNOWN12345',
      secretAccessKey: 'very-secret-access-key/+=',
      sessionToken: 'session-token-that-must-not-leak',
    };
    const store = createObjectStore({ ...s3.access, credentials });
    try {
      const calls = [
        () => store.get('errors/object.txt'),
        () => store.head('errors/object.txt'),
        () => store.put('errors/new.txt', new Uint8Array([1])),
        () => store.delete('errors/object.txt'),
        async () => {
          for await (const entry of store.list('errors/')) void entry;
        },
      ];
      for (const call of calls) {
        const error = await failure(call);
        expect(error.code).toBe('access_denied');
        expect(error.message).toContain('test-bucket');
        const shown = everything(error);
        for (const secret of Object.values(credentials)) expect(shown).not.toContain(secret);
      }
    } finally {
      store.close();
    }
  });

  it('times out when the endpoint accepts connections but never answers', async () => {
    const sockets: Socket[] = [];
    const silent: Server = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const address = silent.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const store = createObjectStore(
      { ...s3.access, endpoint: `http://127.0.0.1:${port}` },
      { timeoutMs: 300 },
    );
    try {
      const error = await failure(() => store.head('errors/object.txt'));
      expect(error.code).toBe('timeout');
      expect(error.message).toContain('s3://test-bucket/errors/object.txt');
    } finally {
      store.close();
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it('says the connection was reset when the endpoint resets it, not that it timed out', async () => {
    const resetting: Server = createServer((socket) => socket.resetAndDestroy());
    await new Promise<void>((resolve) => resetting.listen(0, '127.0.0.1', resolve));
    const address = resetting.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const store = createObjectStore({ ...s3.access, endpoint: `http://127.0.0.1:${port}` });
    try {
      const error = await failure(() => store.get('errors/object.txt'));
      expect(error.code).toBe('unreachable');
      expect(error.message).toContain('connection reset');
      expect(error.message).not.toContain('no answer within');
    } finally {
      store.close();
      await new Promise((resolve) => resetting.close(resolve));
    }
  });

  it('says aborted when the caller aborts, before or during a read', async () => {
    const store = createObjectStore(s3.access);
    try {
      const before = await failure(() =>
        store.get('errors/object.txt', undefined, { signal: AbortSignal.abort() }),
      );
      expect(before.code).toBe('aborted');
      await store.put('errors/big.bin', new Uint8Array(4 * 1024 * 1024));
      const controller = new AbortController();
      const during = await failure(async () => {
        for await (const chunk of store.getStream('errors/big.bin', undefined, {
          signal: controller.signal,
        })) {
          void chunk;
          controller.abort();
        }
      });
      expect(during.code).toBe('aborted');
    } finally {
      store.close();
    }
  });

  it('redacts credentials in any of their spellings', () => {
    const secret = 'a/b+c="d"';
    const text = `raw ${secret} json ${JSON.stringify(secret)} url ${encodeURIComponent(secret)}`;
    const out = redact(text, [secret]);
    expect(out).not.toContain(secret);
    expect(out).not.toContain(JSON.stringify(secret).slice(1, -1));
    expect(out).not.toContain(encodeURIComponent(secret));
    expect(out.match(/\[redacted\]/g)).toHaveLength(3);
  });
});
