/**
 * Adversarial, on the real stack: a worker (here a raw WebSocket agent, approved like any other)
 * is handed aggregation tasks. Its assign frames carry presigned URLs for the task's own objects,
 * never the store's secret key; the loopback S3 refuses those URLs for any other object or method.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash, createPublicKey, generateKeyPairSync } from 'node:crypto';
import WebSocket from 'ws';
import { freePort } from '../../../cli/local/ports.ts';
import { LOCAL_S3_CREDENTIALS } from '../../../cli/local/s3-server.ts';
import type { MapTaskSpec } from '../../../protocol/index.ts';
import type { ObjectStore } from '../../../worker-agent/storage/index.ts';
import { createObjectStore } from '../../../worker-agent/storage/object-store.ts';
import { signedHello } from '../../support/raw-hello.ts';
import { startTestStack, type TestStack } from '../../support/stack.ts';
import { eventually } from '../../support/wait.ts';

let stack: TestStack;
let store: ObjectStore;
const CSV = 'category,n\na,1\nb,2\na,3\n';

beforeAll(async () => {
  stack = await startTestStack({ agents: 0, s3: true });
  store = createObjectStore(stack.s3!.access);
  await store.put('creds/in/part-0.csv', new TextEncoder().encode(CSV));
  await store.put('creds/other/private.csv', new TextEncoder().encode('secret,1\n'));
});
afterAll(async () => {
  store?.close();
  await stack?.stop();
});

/** A raw agent for a registered worker: every frame the control plane sends it, as text. */
async function rawAgent() {
  const address = `localhost:${await freePort()}`;
  const { privateKey } = generateKeyPairSync('ed25519');
  const x = createPublicKey(privateKey).export({ format: 'jwk' }).x as string;
  const fingerprint = `SHA256:${createHash('sha256').update(Buffer.from(x, 'base64url')).digest('base64').replace(/=+$/, '')}`;
  const { joinToken } = await stack.client.registerWorker({ address, fingerprint });
  const frames: string[] = [];
  const socket = new WebSocket(`${stack.url.replace('http', 'ws')}/v1/agent/connect`, {
    headers: { authorization: `Bearer ${joinToken ?? stack.token}` },
  });
  socket.on('message', (data) => {
    const text = String(data);
    frames.push(text);
    const frame = JSON.parse(text) as { type: string; nonce?: string };
    if (frame.type !== 'challenge') return;
    socket.send(signedHello(String(frame.nonce), address, privateKey, { acceptsCommands: false }));
  });
  await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
  return { frames, socket };
}

/** `text` without the access key id's one legitimate place: X-Amz-Credential, which names it. */
const withoutCredentialScopes = (text: string) =>
  text.replace(/X-Amz-Credential=[^&"\\]*/g, 'X-Amz-Credential=');

describe('store credentials in tasks', () => {
  let frames: string[];
  let map: MapTaskSpec;
  let socket: WebSocket;
  let jobId: string;

  beforeAll(async () => {
    ({ frames, socket } = await rawAgent());
    const job = await stack.client.submitJob({
      kind: 'aggregate',
      source: { store: 'test-bucket', prefix: 'creds/in/', format: 'csv' },
      groupBy: ['category'],
      aggregates: [{ op: 'sum', column: 'n' }],
      partitions: 3,
    });
    jobId = job.id;
    map = await eventually(() => {
      for (const text of frames) {
        const frame = JSON.parse(text) as { type: string; tasks?: { spec: MapTaskSpec }[] };
        const spec = frame.tasks?.find((t) => t.spec.kind === 'aggregate-map')?.spec;
        if (frame.type === 'assign' && spec) return spec;
      }
      return undefined;
    }, 'an assign frame with a map task');
  });
  afterAll(async () => {
    socket?.close();
    if (jobId) await stack.client.cancelJob(jobId).catch(() => undefined);
  });

  it('never carries the secret key, nor the access key id outside a URL’s credential scope', () => {
    const all = frames.join('\n');
    expect(all).not.toMatch(/secretAccessKey|accessKeyId|credentials/);
    // The loopback store's id and secret are both S3RVER: with the credential scopes taken out,
    // neither appears anywhere.
    expect(LOCAL_S3_CREDENTIALS.secretAccessKey).toBe('S3RVER');
    expect(withoutCredentialScopes(all)).not.toContain(LOCAL_S3_CREDENTIALS.secretAccessKey);
    expect(withoutCredentialScopes(all)).not.toContain(LOCAL_S3_CREDENTIALS.accessKeyId);
    expect(Object.keys(map.source)).toEqual(['bucket', 'endpoint']);
    expect(map.outputUrls).toHaveLength(3);
  });

  it('gives URLs that read the input (ranges too) and write the partials, and nothing else', async () => {
    const whole = await fetch(map.inputUrl);
    expect(whole.status).toBe(200);
    expect(await whole.text()).toBe(CSV);
    const ranged = await fetch(map.inputUrl, { headers: { range: 'bytes=0-7' } });
    expect(ranged.status).toBe(206);
    expect(await ranged.text()).toBe('category');

    const status = async (answer: Promise<Response>) => {
      const response = await answer;
      await response.arrayBuffer();
      return response.status;
    };
    // The input's URL for another object, or to write; a partial's URL for another key, or to read.
    const other = map.inputUrl.replace('/creds/in/part-0.csv?', '/creds/other/private.csv?');
    expect(other).not.toBe(map.inputUrl);
    expect(await status(fetch(other))).toBe(403);
    expect(await status(fetch(map.inputUrl, { method: 'PUT', body: 'x' }))).toBe(403);
    const put = map.outputUrls[0]!;
    const elsewhere = put.replace(/\/part-0\.arrow\?/, '/part-9.arrow?');
    expect(elsewhere).not.toBe(put);
    expect(await status(fetch(elsewhere, { method: 'PUT', body: 'x' }))).toBe(403);
    expect(
      await status(fetch(put.replace(map.outputPrefix, 'creds/in/'), { method: 'PUT', body: 'x' })),
    ).toBe(403);
    expect(await status(fetch(put))).toBe(403);
    expect(await status(fetch(put, { method: 'PUT', body: 'partial' }))).toBe(200);
    expect(new TextDecoder().decode(await store.get(`${map.outputPrefix}part-0.arrow`))).toBe(
      'partial',
    );
    expect(new TextDecoder().decode(await store.get('creds/in/part-0.csv'))).toBe(CSV);
  });

  it('gives URLs that expire with the attempt', () => {
    const expires = Number(new URL(map.inputUrl).searchParams.get('X-Amz-Expires'));
    // No timeout on the job: a day at most (the bound for tasks without a deadline).
    expect(expires).toBeGreaterThan(0);
    expect(expires).toBeLessThanOrEqual(24 * 3600);
  });
});
