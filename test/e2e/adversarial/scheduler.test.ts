/**
 * Adversarial, on the real stack: the Scheduler's own bounds (issue 22). Sockets that never said
 * hello stayed open past the lease; an agent's flood of frames took /v1/health from 0.2 s to
 * 4.4 s; a pipeline `from` naming a 200 MiB object was read whole; an agent's result keys were
 * trusted wherever they pointed; and a task assigned to an agent that died before starting it
 * counted against its job's loss budget. Each attack is made here and must now fail clearly.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import WebSocket from 'ws';
import { LOCAL_S3_CREDENTIALS } from '../../../cli/local/s3-server.ts';
import { freePort } from '../../../cli/local/ports.ts';
import { loadIdentity } from '../../../worker-agent/identity.ts';
import { PROTOCOL_VERSION, type ServerFrame } from '../../../protocol/index.ts';
import { startTestStack, type TestStack } from '../../support/stack.ts';
import { grantTenant, GRANT_ALL, wholeStores } from '../../support/tenants.ts';
import { eventually } from '../../support/wait.ts';

const STORE = 'test-bucket';
let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack({ agents: 0, s3: true });
});
afterAll(async () => stack?.stop());

/** A socket to /v1/agent/connect speaking the protocol by hand, as an attacker's agent would. */
class RawAgent {
  readonly frames: ServerFrame[] = [];
  closed: { code: number; reason: string } | null = null;
  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => this.frames.push(JSON.parse(String(data)) as ServerFrame));
    ws.on('close', (code, reason) => (this.closed = { code, reason: String(reason) }));
  }

  static async open(): Promise<RawAgent> {
    const ws = new WebSocket(`${stack.url.replace(/^http/, 'ws')}/v1/agent/connect`, {
      headers: { authorization: `Bearer ${stack.token}` },
    });
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    const agent = new RawAgent(ws);
    await agent.frame('challenge');
    return agent;
  }

  /** Opens a socket and joins as a worker the admin registered by its key's fingerprint. */
  static async join(): Promise<RawAgent & { workerId: string }> {
    const address = `localhost:${await freePort()}`;
    const dir = mkdtempSync(join(stack.stateDir, 'raw-agent-'));
    const { identity } = loadIdentity(join(dir, 'key.pem'));
    await stack.client.registerWorker({ address, fingerprint: identity.fingerprint });
    const agent = await RawAgent.open();
    const challenge = await agent.frame('challenge');
    agent.send({
      type: 'hello',
      protocolVersion: PROTOCOL_VERSION,
      address,
      slots: 4,
      acceptsCommands: false,
      running: [],
      publicKey: identity.publicKey,
      signature: identity.signHello(challenge.nonce, address),
    });
    const welcome = await agent.frame('welcome');
    return Object.assign(agent, { workerId: welcome.workerId });
  }

  send(frame: unknown): void {
    this.ws.send(JSON.stringify(frame));
  }

  /** The first frame of `type` (and `match`), waiting for it; it stays in `frames`. */
  frame<K extends ServerFrame['type']>(
    type: K,
    match: (frame: Extract<ServerFrame, { type: K }>) => boolean = () => true,
  ): Promise<Extract<ServerFrame, { type: K }>> {
    return eventually(
      () =>
        this.frames.find(
          (f): f is Extract<ServerFrame, { type: K }> =>
            f.type === type && match(f as Extract<ServerFrame, { type: K }>),
        ),
      `a ${type} frame`,
    );
  }

  waitClosed(): Promise<{ code: number; reason: string }> {
    return eventually(() => this.closed ?? undefined, 'the Scheduler to close the socket');
  }
}

/** /v1/health answers, and says it is fine. */
async function healthy(): Promise<void> {
  expect(await stack.client.health()).toMatchObject({ ok: true });
}

async function putObject(key: string, body: Uint8Array): Promise<void> {
  const s3 = new S3Client({
    region: 'us-east-1',
    endpoint: stack.s3!.endpoint,
    forcePathStyle: true,
    credentials: LOCAL_S3_CREDENTIALS,
  });
  await s3.send(new PutObjectCommand({ Bucket: STORE, Key: key, Body: body }));
  s3.destroy();
}

describe('agent sockets', () => {
  it('closes sockets that never say hello within seconds (4008), and stays up', async () => {
    const silent = await Promise.all(Array.from({ length: 20 }, () => RawAgent.open()));
    for (const socket of silent) {
      expect(await socket.waitClosed()).toMatchObject({ code: 4008 });
      expect(socket.frames.some((f) => f.type === 'error' && f.code === 'hello_timeout')).toBe(
        true,
      );
    }
    await healthy();
  });

  it('closes an agent flooding frames (4029) while /v1/health keeps answering', async () => {
    const flood = await RawAgent.join();
    const health = stack.client.health();
    // The attack: `started` frames by the hundred, for tasks that are not the agent's.
    for (let i = 0; i < 3000 && flood.ws.readyState === WebSocket.OPEN; i++)
      flood.send({ type: 'started', tasks: [{ taskId: crypto.randomUUID(), attempt: 1 }] });
    expect(await flood.frame('error', (f) => f.code === 'rate_limited')).toMatchObject({
      message: expect.stringMatching(/frames a second/),
    });
    expect(await flood.waitClosed()).toMatchObject({ code: 4029 });
    expect(await health).toMatchObject({ ok: true });
    await healthy();
    const worker = await stack.client.getWorker(flood.workerId);
    expect(worker.connected).toBe(false);
  });
});

describe('reads from a store', () => {
  it('refuses a pipeline whose `from` names an object over the limit, unread, with a 400 naming it', async () => {
    // 3 MiB: past the 1 MiB a definition may have (the issue used 200 MiB).
    await putObject('big/pipeline.json', new Uint8Array(3 * 1024 * 1024).fill(0x20));
    const tenant = await stack.client.createTenant({ name: 'reader' });
    await grantTenant(stack.client, tenant.tenant.id, { ...GRANT_ALL, stores: wholeStores(STORE) });
    const response = await fetch(`${stack.url}/api/applications/big/pipelines`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tenant.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'big', from: { store: STORE, key: 'big/pipeline.json' } }),
    });
    const body = (await response.json()) as { error: { code: string; message: string } };
    expect(response.status).toBe(400);
    expect(body.error.message).toMatch(/is 3145728 bytes; a definition may have 1048576/);
    await healthy();
  });
});

describe('agent-reported results', () => {
  it("refuses a map result whose key lies outside the attempt's own prefix", async () => {
    await putObject('sales/a.csv', new TextEncoder().encode('region,amount\neu,1\nus,2\n'));
    const forger = await RawAgent.join();
    const job = await stack.client.submitJob({
      kind: 'aggregate',
      source: { store: STORE, prefix: 'sales/', format: 'csv' },
      groupBy: ['region'],
      aggregates: [{ op: 'count' }],
      retries: 0,
    });
    const assign = await forger.frame('assign', (f) => f.tasks.some((t) => t.jobId === job.id));
    const task = assign.tasks.find((t) => t.jobId === job.id)!;
    forger.send({ type: 'started', tasks: [{ taskId: task.taskId, attempt: task.attempt }] });
    // Another tenant's folder: the next step would read it as this job's partial.
    forger.send({
      type: 'complete',
      tasks: [
        {
          taskId: task.taskId,
          attempt: task.attempt,
          exitCode: 0,
          result: {
            rowsRead: 2,
            rowsMatched: 2,
            bytesRead: 20,
            partitions: [{ index: 0, groups: 2, key: 'victim/_tm/jobs/x/part-0.arrow' }],
          },
        },
      ],
    });
    expect(await forger.frame('error', (f) => f.code === 'result_refused')).toMatchObject({
      message: expect.stringMatching(/outside this attempt's folder/),
    });
    const ended = await eventually(async () => {
      const view = await stack.client.getJob(job.id);
      return view.state === 'failed' ? view : undefined;
    }, 'the job to fail');
    const failed = await stack.client.getTask(task.taskId);
    expect(failed.error ?? ended.error).toMatch(/refused this result/);
    forger.ws.close();
  });
});

describe('loss accounting', () => {
  it('does not count tasks an agent held but had not started when it was SIGKILLed', async () => {
    const victim = await stack.addAgent();
    await eventually(async () => {
      const workers = await stack.client.listWorkers();
      return workers.some((w) => w.address === victim.address && w.connected) || undefined;
    }, 'the agent to connect');
    // Stopped, its socket stays open: the Scheduler assigns it the task, which it never starts.
    victim.signal('SIGSTOP');
    const job = await stack.client.submitJob({ kind: 'echo', maxLostAttempts: 0, retries: 0 });
    await eventually(async () => {
      const view = await stack.client.getJob(job.id);
      return view.tasks?.[0]?.state === 'assigned' ? view : undefined;
    }, 'the task to be assigned to the stopped agent');
    victim.signal('SIGKILL');
    victim.signal('SIGCONT');
    await stack.addAgent();
    const done = await eventually(
      async () => {
        const view = await stack.client.getJob(job.id);
        return view.state === 'succeeded' || view.state === 'failed' ? view : undefined;
      },
      'the job to end',
      60_000,
    );
    expect(done.error).toBeNull();
    expect(done.state).toBe('succeeded');
    const task = await stack.client.getTask(done.tasks![0]!.id);
    expect(task.history?.[0]).toMatchObject({ outcome: 'lost' });
    expect(task.history?.[0]?.error).toMatch(/not counted as a loss/);
  });
});
