/**
 * Adversarial, frames and submit bounds (issue 22, stream A), on the real stack: a small body
 * whose numbers grow when re-encoded, and JSON nested 1,800 deep, are refused at the HTTP edge
 * with a 400 naming the limit; the agents stay connected and other jobs on them are not harmed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { TmClient } from '../../../cli/sdk/client.ts';
import {
  MAX_FRAME_JSON_DEPTH,
  MAX_JSON_DEPTH,
  MAX_SPEC_BYTES,
  type CreatedTenantToken,
  type JobView,
} from '../../../protocol/index.ts';
import { startTestStack, type TestStack } from '../../support/stack.ts';
import { eventually } from '../../support/wait.ts';

let stack: TestStack;
let attacker: CreatedTenantToken;
let victim: CreatedTenantToken;

async function post(path: string, body: string, token = stack.adminToken, method = 'POST') {
  const response = await fetch(stack.url + path, {
    method,
    body,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
  });
  const text = await response.text();
  return {
    status: response.status,
    text,
    error: (JSON.parse(text) as { error?: { code: string; message: string; details?: unknown } })
      .error,
  };
}

async function createTenant(name: string): Promise<CreatedTenantToken> {
  const reply = await post('/v1/tenants', JSON.stringify({ name }));
  expect(reply.status, reply.text).toBe(201);
  return JSON.parse(reply.text) as CreatedTenantToken;
}

/** An echo body of `count` copies of 9e15: 5 bytes each as sent, 17 once written back out. */
function expandingEcho(count: number): string {
  const numbers = Array.from({ length: count }, () => '9e15').join(',');
  return `{"kind":"echo","workers":"all","payload":[${numbers}]}`;
}

/** Every worker is connected and ready: none was dropped, none is cycling `lost`. */
async function expectAgentsConnected(): Promise<void> {
  const workers = await stack.client.listWorkers();
  expect(workers).toHaveLength(2);
  for (const worker of workers) {
    expect(worker.state).toBe('ready');
    expect(worker.connected).toBe(true);
  }
}

function expectNothingLost(job: JobView): void {
  expect(job.attempts.lost).toBe(0);
  expect(job.state).toBe('succeeded');
}

beforeAll(async () => {
  stack = await startTestStack({ agents: 2, slots: 2 });
  attacker = await createTenant('attacker');
  victim = await createTenant('victim');
}, 120_000);

afterAll(async () => stack?.stop());

describe('a small request cannot drop the agents', () => {
  it('refuses at submit an echo whose numbers grow past the frame budget when re-encoded', async () => {
    // The admin's own long job runs on both agents through the attack.
    const running = await stack.client.submitJob({
      kind: 'command',
      command: 'sleep 3; echo survived',
      workers: 'all',
    });
    // ~450 KB as sent, ~1.5 MB as stored and framed: once a 1009 on every agent, every task lost.
    const body = expandingEcho(90_000);
    expect(body.length).toBeLessThan(460_000);
    const refused = await post('/v1/jobs', body, attacker.token);
    expect(refused.status, refused.text).toBe(400);
    expect(refused.error?.code).toBe('spec_too_large');
    expect(refused.error?.message).toContain(String(MAX_SPEC_BYTES));
    expect(refused.error?.details).toMatchObject({ limit: MAX_SPEC_BYTES });
    // Slightly larger was a 500 SQLITE_TOOBIG: now the same 400.
    const larger = await post('/v1/jobs', expandingEcho(160_000), attacker.token);
    expect(larger.status, larger.text).toBe(400);
    expect(larger.error?.code).toBe('spec_too_large');
    // Nothing of the attacker's was stored.
    const attackerClient = new TmClient(stack.url, { token: attacker.token });
    expect(await attackerClient.listJobs()).toEqual([]);

    // Another tenant's jobs and the admin's own run on the same agents as before.
    const victimClient = new TmClient(stack.url, { token: victim.token });
    const echo = await victimClient.submitJob({ kind: 'echo', payload: [9e15], count: 10 }, 30);
    expectNothingLost(echo);
    const done = await eventually(
      async () => {
        const job = await stack.client.getJob(running.id);
        return job.state === 'queued' || job.state === 'running' ? undefined : job;
      },
      'the admin job to end',
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    expectNothingLost(done);
    expect(done.counts.succeeded).toBe(2);
    await expectAgentsConnected();
  });

  it("measures a command's env and argv as framed, too", async () => {
    const env = Object.fromEntries(
      Array.from({ length: 9 }, (_, i) => [`V${i}`, 'v'.repeat(60 * 1024)]),
    );
    const reply = await post(
      '/v1/jobs',
      JSON.stringify({ kind: 'command', command: ['true', ...Array(4000).fill('9')], env }),
    );
    expect(reply.status, reply.text.slice(0, 300)).toBe(400);
    expect(reply.error?.code).toBe('spec_too_large');
    await expectAgentsConnected();
  });

  it('still runs an echo just under the budget, on every agent', async () => {
    const count = Math.floor((MAX_SPEC_BYTES - 1024) / 17);
    const reply = await post('/v1/jobs?wait=30', expandingEcho(count));
    expect(reply.status, reply.text.slice(0, 300)).toBe(202);
    const job = JSON.parse(reply.text) as JobView;
    expectNothingLost(job);
    expect(job.counts.succeeded).toBe(2);
    await expectAgentsConnected();
  });
});

describe('JSON nested 1,800 deep', () => {
  const deep = '['.repeat(1800) + ']'.repeat(1800);

  it('is a 400 naming the limit, not an agent crash, for a 3.6 KB echo job', async () => {
    const body = `{"kind":"echo","workers":"all","payload":${deep}}`;
    expect(body.length).toBeLessThan(3700);
    for (const token of [attacker.token, stack.adminToken]) {
      const reply = await post('/v1/jobs', body, token);
      expect(reply.status, reply.text).toBe(400);
      expect(reply.error?.code).toBe('json_too_deep');
      expect(reply.error?.message).toContain(`${MAX_JSON_DEPTH} levels`);
    }
    await expectAgentsConnected();
  });

  it('is a 400, not a 500, on every route that reads a body', async () => {
    const routes: [string, string, string][] = [
      ['POST', '/v1/jobs', stack.adminToken],
      ['POST', '/v1/workers', stack.adminToken],
      ['POST', '/v1/tenants', stack.adminToken],
      ['PATCH', `/v1/tenants/${victim.tenant.id}`, stack.adminToken],
      ['POST', '/v1/object-stores', stack.adminToken],
      ['POST', '/api/applications/app/pipelines', attacker.token],
      ['POST', '/api/applications/app/pipelines/p', attacker.token],
    ];
    for (const [method, path, token] of routes) {
      for (const body of [
        deep,
        `{"name":"x","payload":${'{"a":'.repeat(1800)}1${'}'.repeat(1800)}}`,
      ]) {
        const reply = await post(path, body, token, method);
        expect(reply.status, `${path}: ${reply.text}`).toBe(400);
        expect(reply.error?.code, path).toBe('json_too_deep');
      }
    }
  });

  it('leaves room for nesting up to the limit: a payload 60 deep runs and comes back whole', async () => {
    const payload = JSON.parse('['.repeat(60) + '"deep"' + ']'.repeat(60)) as string[];
    const job = await stack.client.submitJob({ kind: 'echo', payload, workers: 'all' }, 30);
    expectNothingLost(job);
    const tasks = (await stack.client.getJob(job.id, 10)).tasks ?? [];
    expect(tasks.map((task) => task.result)).toEqual([payload, payload]);
  });

  it('in a frame to the Scheduler is an error frame, and the socket stays open', async () => {
    const socket = new WebSocket(`${stack.url.replace(/^http/, 'ws')}/v1/agent/connect`, {
      headers: { authorization: `Bearer ${stack.token}` },
    });
    const frames: { type: string; code?: string; message?: string }[] = [];
    socket.on('message', (data) => frames.push(JSON.parse(String(data)) as (typeof frames)[0]));
    await new Promise((resolve, reject) => {
      socket.once('open', resolve);
      socket.once('error', reject);
    });
    try {
      socket.send(`{"type":"complete","tasks":[{"result":${deep}}]}`);
      const error = await eventually(
        () => frames.find((frame) => frame.type === 'error'),
        'an error frame',
        { timeoutMs: 10_000, intervalMs: 50 },
      );
      expect(error.code).toBe('frame_too_deep');
      expect(error.message).toContain(String(MAX_FRAME_JSON_DEPTH));
      expect(socket.readyState).toBe(WebSocket.OPEN);
    } finally {
      socket.terminate();
    }
    await expectAgentsConnected();
  });
});
