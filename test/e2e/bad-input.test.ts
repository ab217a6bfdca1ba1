/** End to end: bad input over HTTP and over the agent socket gets a clear error and changes nothing. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { PROTOCOL_VERSION } from '../../protocol/index.ts';
import { startTestStack, type TestStack } from '../support/stack.ts';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({ agents: 1 });
});
afterAll(async () => stack?.stop());

const asAdmin = () => ({ authorization: `Bearer ${stack.adminToken}` });

async function post(path: string, body: string) {
  const response = await fetch(stack.url + path, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json', ...asAdmin() },
  });
  return {
    status: response.status,
    body: (await response.json()) as { error: { code: string; message: string } },
  };
}

function connect(
  token: string | null,
): Promise<{ socket: WebSocket; frames: unknown[] } | { status: number }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(stack.url.replace('http', 'ws') + '/v1/agent/connect', {
      headers: token ? { authorization: `Bearer ${token}` } : {},
    });
    const frames: unknown[] = [];
    socket.on('message', (data) => frames.push(JSON.parse(String(data))));
    socket.once('open', () => resolve({ socket, frames }));
    socket.once('unexpected-response', (_request, response) =>
      resolve({ status: response.statusCode ?? 0 }),
    );
    socket.once('error', reject);
  });
}

async function nextFrame(frames: unknown[], count: number): Promise<unknown> {
  for (let i = 0; i < 100 && frames.length < count; i++)
    await new Promise((r) => setTimeout(r, 50));
  return frames[count - 1];
}

describe('bad HTTP input', () => {
  it('answers malformed JSON, unknown fields, wrong types and unknown kinds with 400 and stores nothing', async () => {
    const before = (await stack.client.listJobs()).length;
    const cases: [string, string, RegExp][] = [
      ['/v1/jobs', '{"kind":', /not valid JSON/],
      ['/v1/jobs', '{"kind":"command","command":"ls","colour":"red"}', /unknown field.*colour/],
      ['/v1/jobs', '{"kind":"command","command":42}', /command/],
      ['/v1/jobs', '{"kind":"command","command":"   "}', /empty/],
      ['/v1/jobs', '{"kind":"command","command":[]}', /empty/],
      ['/v1/jobs', '{"kind":"teleport"}', /unknown job kind "teleport"/],
      ['/v1/jobs', '{"kind":"command","command":"ls","path":"/etc"}', /path/],
      ['/v1/workers', '{"address":"no-port"}', /host:port/],
      ['/v1/workers', '{"address":"localhost:1","slots":"many"}', /slots/],
    ];
    for (const [path, body, message] of cases) {
      const reply = await post(path, body);
      expect(reply.status, body).toBe(400);
      expect(reply.body.error.message, body).toMatch(message);
    }
    expect((await stack.client.listJobs()).length).toBe(before);
  });

  it('answers an oversized body with 413, unknown ids with 404 and unknown routes with 404', async () => {
    const big = await post(
      '/v1/jobs',
      JSON.stringify({ kind: 'echo', payload: 'x'.repeat(2 * 1024 * 1024) }),
    );
    expect(big.status).toBe(413);
    expect(big.body.error.code).toBe('payload_too_large');
    for (const path of [
      '/v1/jobs/00000000-0000-4000-8000-000000000000',
      '/v1/tasks/not-a-uuid',
      '/v1/workers/00000000-0000-4000-8000-000000000000',
      '/v1/nothing',
    ]) {
      const response = await fetch(stack.url + path, { headers: asAdmin() });
      expect(response.status, path).toBe(404);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe('not_found');
    }
  });
});

describe('bad agent connections and frames', () => {
  it('refuses a connection without a token or with a wrong one', async () => {
    expect(await connect(null)).toEqual({ status: 401 });
    expect(await connect('tmj_wrong')).toEqual({ status: 401 });
  });

  it('answers malformed and unexpected frames with error frames and applies none of them', async () => {
    const opened = await connect(stack.token);
    if (!('socket' in opened)) throw new Error(`connection refused: ${opened.status}`);
    const { socket, frames } = opened;
    expect(await nextFrame(frames, 1)).toMatchObject({ type: 'challenge' });
    socket.send('not json');
    expect(await nextFrame(frames, 2)).toMatchObject({ type: 'error', code: 'malformed_frame' });
    socket.send(
      JSON.stringify({ type: 'complete', tasks: [{ taskId: crypto.randomUUID(), attempt: 1 }] }),
    );
    expect(await nextFrame(frames, 3)).toMatchObject({ type: 'error', code: 'hello_required' });
    socket.send(JSON.stringify({ type: 'launch-missiles' }));
    expect(await nextFrame(frames, 4)).toMatchObject({ type: 'error', code: 'invalid_frame' });
    socket.send(
      JSON.stringify({
        type: 'hello',
        protocolVersion: PROTOCOL_VERSION,
        address: 'localhost:1',
        slots: 1,
        acceptsCommands: true,
        running: [],
        publicKey: 'A'.repeat(43),
        signature: 'A'.repeat(86),
        extra: 1,
      }),
    );
    expect(await nextFrame(frames, 5)).toMatchObject({ type: 'error', code: 'invalid_frame' });
    expect((await stack.client.listWorkers()).some((w) => w.address === 'localhost:1')).toBe(false);
    socket.close();
  });
});
