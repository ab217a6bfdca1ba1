/**
 * Agent identity against the real Scheduler: the challenge, signed hellos with WebCrypto Ed25519
 * keys, the key bound at the first hello, approval of new keys (pending until the admin approves,
 * or pre-registered by fingerprint), and reports that claim another worker's task.
 */
import { z } from 'zod';
import { afterEach, beforeEach, describe, expect, it, vi, type MockInstance } from 'vitest';
import { env, runInDurableObject } from 'cloudflare:test';
import { PROTOCOL_VERSION, type TaskView, type WorkerView } from '../../protocol/index.ts';
import { MIGRATIONS, migrate } from '../../durable-objects/db/schema.ts';
import { createSql } from '../../durable-objects/db/sql.ts';
import type { Env } from '../../src/env.ts';
import {
  JOIN_TOKEN,
  api,
  assignmentOf,
  cleanUp,
  complete,
  connect,
  fail,
  fingerprintOf,
  getJob,
  getTask,
  getWorker,
  joinAgent,
  joinPending,
  keysOf,
  newAgentKeys,
  preRegister,
  query,
  registerWorker,
  sendLog,
  signHello,
  signedHello,
  submitJob,
  uniqueAddress,
  type TestAgent,
} from './helpers.ts';

/** Any row, for tests that compare what SQLite holds as it is. */
const AnyRow = z.record(z.string(), z.unknown());

let warn: MockInstance<typeof console.warn>;
beforeEach(() => {
  warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
});
afterEach(async () => {
  warn.mockRestore();
  await cleanUp();
});

/** The warnings written, each without its leading time (text lines: protocol/log-lines.ts). */
const warnings = () =>
  warn.mock.calls.map((args) =>
    args
      .map(String)
      .join(' ')
      .replace(/^\S+Z /, ''),
  );

const recordedKey = async (workerId: string) =>
  (
    await query<{ public_key: string | null }>(
      `SELECT public_key FROM workers WHERE id = ?`,
      workerId,
    )
  )[0]?.public_key;

/** Expects the socket to be rejected with `code` and closed as rejected. */
async function expectRejected(agent: TestAgent, code: string) {
  expect(await agent.nextFrame('reject')).toMatchObject({ code });
  expect((await agent.closed()).code).toBe(4003);
}

describe('challenge', () => {
  it('opens every agent socket with a fresh 32-byte nonce', async () => {
    const a = await connect();
    const b = await connect();
    const [first, second] = [await a.nonce(), await b.nonce()];
    expect(first).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(second).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(first).not.toBe(second);
    expect(a.received[0]).toEqual({ type: 'challenge', nonce: first });
  });
});

describe('approval', () => {
  /** The agent's round trip, then no frame but `type` kinds it may get while it waits. */
  async function expectNoAssign(agent: TestAgent) {
    await agent.sync();
    expect(agent.received.filter((f) => f.type === 'assign')).toEqual([]);
  }

  it('keeps a new worker of the cluster token pending, connected and given nothing, until approved', async () => {
    const address = uniqueAddress();
    const keys = await keysOf(address);
    const { agent, workerId, pending } = await joinPending(address);
    expect(pending).toBe(true);
    const fingerprint = await fingerprintOf(keys.publicKey);
    const { body } = await api<{ workers: WorkerView[] }>('GET', '/v1/workers?state=pending');
    expect(body.workers.find((w) => w.id === workerId)).toMatchObject({
      address,
      state: 'pending',
      connected: true,
      approved: false,
      keyFingerprint: fingerprint,
      expectedFingerprint: null,
    });
    // The operator hears who waits and how to let it in; never a token or the key itself.
    expect(warnings()).toEqual([
      `WARN agent-session: worker ${workerId} at ${address} waits for approval (agent key ${fingerprint}): tm workers approve ${workerId} worker=${workerId}`,
    ]);

    const job = await submitJob({ kind: 'echo', payload: 'for approved workers only' });
    await expectNoAssign(agent);
    expect((await getJob(job.id)).tasks?.[0]?.state).toBe('queued');

    const approved = await api<WorkerView>('POST', `/v1/workers/${workerId}/approve`);
    expect(approved.status).toBe(200);
    expect(approved.body).toMatchObject({ state: 'ready', approved: true, connected: true });
    await agent.nextFrame('approved');
    const task = await assignmentOf(agent, job.id);
    complete(agent, task);
    await agent.sync();
    expect((await getTask(task.taskId)).state).toBe('succeeded');

    // Approving again changes nothing and says nothing to the agent.
    expect((await api('POST', `/v1/workers/${workerId}/approve`)).body).toMatchObject({
      state: 'ready',
      approved: true,
    });
    await agent.sync();
    expect(agent.received.filter((f) => f.type === 'approved')).toHaveLength(1);
  });

  it("keeps a registered worker's first key pending too, and its agent waits across reconnects", async () => {
    const { worker, joinToken, address } = await registerWorker();
    expect(worker).toMatchObject({ state: 'pending', approved: false, keyFingerprint: null });
    const keys = await newAgentKeys();
    const first = await joinPending(address, {}, joinToken, keys);
    expect(first).toMatchObject({ workerId: worker.id, pending: true });
    expect(await recordedKey(worker.id)).toBe(keys.publicKey);
    first.agent.close();
    await vi.waitFor(async () => expect((await getWorker(worker.id)).connected).toBe(false));
    expect(await getWorker(worker.id)).toMatchObject({ state: 'pending', approved: false });

    const again = await joinPending(address, {}, joinToken, keys);
    expect(again.pending).toBe(true);
    await api('POST', `/v1/workers/${worker.id}/approve`);
    await again.agent.nextFrame('approved');
    expect(await getWorker(worker.id)).toMatchObject({ state: 'ready', connected: true });
  });

  it('approves a pre-registered fingerprint at once and refuses any other key', async () => {
    const address = uniqueAddress();
    const keys = await newAgentKeys();
    const fingerprint = await fingerprintOf(keys.publicKey);
    const { status, body } = await api<{ worker: WorkerView }>('POST', '/v1/workers', {
      address,
      fingerprint,
    });
    expect(status).toBe(201);
    expect(body.worker).toMatchObject({
      state: 'pending',
      approved: true,
      keyFingerprint: null,
      expectedFingerprint: fingerprint,
    });

    const impostor = await connect();
    await impostor.hello(address, {}, await newAgentKeys());
    const reject = await impostor.nextFrame('reject');
    expect(reject).toMatchObject({ code: 'key_mismatch' });
    expect(reject.type === 'reject' && reject.message).toContain(fingerprint);
    expect((await impostor.closed()).code).toBe(4003);
    expect(await recordedKey(body.worker.id)).toBeNull();

    const real = await joinPending(address, {}, JOIN_TOKEN, keys);
    expect(real).toMatchObject({ workerId: body.worker.id, pending: false });
    expect(await getWorker(body.worker.id)).toMatchObject({
      state: 'ready',
      keyFingerprint: fingerprint,
    });
    expect(warnings()).toEqual([
      `WARN agent-session: rejected an agent for worker ${body.worker.id} at ${address}: key_mismatch worker=${body.worker.id}`,
    ]);
  });

  it('approves a pending worker registered again with its key, and refuses another key (409)', async () => {
    const { agent, workerId, address } = await joinPending();
    const keys = await keysOf(address);
    const other = await fingerprintOf((await newAgentKeys()).publicKey);
    const wrong = await api('POST', '/v1/workers', { address, fingerprint: other });
    expect(wrong.status).toBe(409);
    expect(await getWorker(workerId)).toMatchObject({ state: 'pending', approved: false });

    const right = await api<{ worker: WorkerView; created: boolean }>('POST', '/v1/workers', {
      address,
      fingerprint: await fingerprintOf(keys.publicKey),
    });
    expect(right.status).toBe(200);
    expect(right.body).toMatchObject({ created: false, worker: { id: workerId, state: 'ready' } });
    await agent.nextFrame('approved');
  });

  it('answers approve with 404 for no such worker, 409 with no key yet, 403 to a tenant', async () => {
    expect((await api('POST', `/v1/workers/${crypto.randomUUID()}/approve`)).status).toBe(404);
    const { worker } = await registerWorker();
    const keyless = await api<{ error: { code: string; message: string } }>(
      'POST',
      `/v1/workers/${worker.id}/approve`,
    );
    expect(keyless.status).toBe(409);
    expect(keyless.body.error.message).toContain('no agent key');
    expect((await getWorker(worker.id)).approved).toBe(false);

    const { workerId } = await joinPending();
    const tenant = await api<{ token: string }>('POST', '/v1/tenants', { name: `t-${workerId}` });
    const asTenant = await api(
      'POST',
      `/v1/workers/${workerId}/approve`,
      undefined,
      tenant.body.token,
    );
    expect(asTenant.status).toBe(403);
    expect(await getWorker(workerId)).toMatchObject({ state: 'pending', approved: false });
  });

  it('rejects a malformed fingerprint at registration (400)', async () => {
    const reply = await api('POST', '/v1/workers', {
      address: uniqueAddress(),
      fingerprint: 'MD5:00:11',
    });
    expect(reply.status).toBe(400);
  });
});

describe('approval migration', () => {
  it('keeps workers whose agent had bound a key approved, and the rest pending', async () => {
    const { SCHEDULER } = env as unknown as Env;
    // A Scheduler of its own, taken back to the schema before approval existed.
    const scheduler = SCHEDULER.get(SCHEDULER.idFromName(`migration-${crypto.randomUUID()}`));
    await runInDurableObject(scheduler, (_, state) => {
      const sql = createSql(state.storage);
      const tables = sql.rows(
        z.object({ name: z.string() }),
        `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%'`,
      );
      for (const { name } of tables) sql.run(`DROP TABLE ${name}`);
      const approval = MIGRATIONS.findIndex((m) => m.includes('ADD COLUMN approved_at'));
      expect(approval).toBeGreaterThan(0);
      migrate(sql, approval);
      const insert = `INSERT INTO workers (id, address, state, registered_at, public_key)
                      VALUES (?, ?, ?, ?, ?)`;
      sql.run(insert, 'bound', 'h:1', 'lost', 1000, 'A'.repeat(43));
      sql.run(insert, 'keyless', 'h:2', 'pending', 2000, null);
      migrate(sql);
      expect(
        sql.rows(AnyRow, `SELECT id, approved_at, expected_fingerprint FROM workers ORDER BY seq`),
      ).toEqual([
        { id: 'bound', approved_at: 1000, expected_fingerprint: null },
        { id: 'keyless', approved_at: null, expected_fingerprint: null },
      ]);
    });
  });
});

describe('key binding', () => {
  it("records the key of a registered worker's first hello and shows its fingerprint", async () => {
    const { worker, joinToken, address } = await registerWorker();
    expect(worker.keyFingerprint).toBeNull();
    expect(await recordedKey(worker.id)).toBeNull();
    const keys = await newAgentKeys();
    const { agent, workerId } = await joinAgent(address, {}, joinToken, keys);
    expect(workerId).toBe(worker.id);
    expect(await recordedKey(worker.id)).toBe(keys.publicKey);
    const view = await getWorker(worker.id);
    expect(view.keyFingerprint).toBe(await fingerprintOf(keys.publicKey));
    expect(view.keyFingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    const { body } = await api<{ workers: WorkerView[] }>('GET', '/v1/workers');
    expect(body.workers.find((w) => w.id === worker.id)?.keyFingerprint).toBe(view.keyFingerprint);
    agent.close();
  });

  it('records the key of a worker that registers itself with the cluster token', async () => {
    const keys = await newAgentKeys();
    const { workerId } = await joinPending(uniqueAddress(), {}, JOIN_TOKEN, keys);
    expect(await recordedKey(workerId)).toBe(keys.publicKey);
  });

  it('welcomes the same key back as the same worker', async () => {
    const { worker, joinToken, address } = await registerWorker();
    const keys = await newAgentKeys();
    const first = await joinAgent(address, {}, joinToken, keys);
    first.agent.close();
    await vi.waitFor(async () => expect((await getWorker(worker.id)).connected).toBe(false));
    const again = await joinPending(address, {}, joinToken, keys);
    expect(again).toMatchObject({ workerId: worker.id, pending: false });
    expect(await getWorker(worker.id)).toMatchObject({ state: 'ready', connected: true });
    expect(await recordedKey(worker.id)).toBe(keys.publicKey);
    expect(warnings()).toEqual([]);
  });

  it('starts over with no key when the worker is deregistered and registered again', async () => {
    const { worker, address } = await registerWorker();
    const { agent } = await joinAgent(address, {}, JOIN_TOKEN, await newAgentKeys());
    await api('DELETE', `/v1/workers/${worker.id}?force=true`);
    await agent.closed();
    const again = await registerWorker(address);
    expect(again.worker.id).not.toBe(worker.id);
    expect(again.worker).toMatchObject({ keyFingerprint: null, approved: false });
    const rebuilt = await newAgentKeys();
    const { workerId } = await joinAgent(address, {}, again.joinToken, rebuilt);
    expect(workerId).toBe(again.worker.id);
    expect(await recordedKey(workerId)).toBe(rebuilt.publicKey);
  });
});

describe('impersonation', () => {
  it("rejects another key with the worker's valid join token, and the real agent carries on", async () => {
    const { worker, joinToken, address } = await registerWorker();
    const real = await joinAgent(address, {}, joinToken, await newAgentKeys());
    const forgedKeys = await newAgentKeys();

    for (const token of [joinToken, JOIN_TOKEN]) {
      const forged = await connect(token);
      await forged.hello(address, {}, forgedKeys);
      await expectRejected(forged, 'key_mismatch');
    }
    const lines = warnings();
    expect(lines).toHaveLength(2);
    for (const line of lines) {
      expect(line).toContain(worker.id);
      expect(line).toContain(address);
      expect(line).toContain('key_mismatch');
      expect(line).not.toContain(joinToken);
      expect(line).not.toContain(JOIN_TOKEN);
      expect(line).not.toContain(forgedKeys.publicKey);
    }

    // The real agent's connection was never replaced: it still gets and finishes work.
    expect(await getWorker(worker.id)).toMatchObject({ state: 'ready', connected: true });
    const job = await submitJob({ kind: 'echo' });
    const task = await assignmentOf(real.agent, job.id);
    complete(real.agent, task);
    await real.agent.sync();
    expect((await getTask(task.taskId)).state).toBe('succeeded');
  });

  it('rejects a hello whose signature does not verify, and binds no key', async () => {
    const { worker, joinToken, address } = await registerWorker();
    const mine = await newAgentKeys();
    const other = await newAgentKeys();

    const signedByOther = await connect(joinToken);
    const nonce = await signedByOther.nonce();
    await signedByOther.hello(address, { signature: await signHello(other, nonce, address) }, mine);
    await expectRejected(signedByOther, 'bad_signature');

    const otherAddress = await connect(joinToken);
    const otherNonce = await otherAddress.nonce();
    await otherAddress.hello(
      address,
      { signature: await signHello(mine, otherNonce, uniqueAddress()) },
      mine,
    );
    await expectRejected(otherAddress, 'bad_signature');

    const notAKey = await connect(joinToken);
    await notAKey.hello(address, { publicKey: 'A'.repeat(43) }, mine);
    await expectRejected(notAKey, 'bad_signature');

    expect(await recordedKey(worker.id)).toBeNull();
    expect(await getWorker(worker.id)).toMatchObject({ state: 'pending', connected: false });
    expect(warnings()).toHaveLength(3);
    for (const line of warnings()) {
      expect(line).toContain(worker.id);
      expect(line).toContain('bad_signature');
      expect(line).not.toContain(joinToken);
    }
  });

  it('rejects a hello replayed on another connection', async () => {
    const address = uniqueAddress();
    const keys = await keysOf(address);
    await preRegister(address, keys);
    const original = await connect();
    const nonce = await original.nonce();
    const hello = await signedHello(address, nonce, keys);
    original.send(hello);
    const welcome = await original.nextFrame('welcome');

    const replay = await connect();
    replay.send(hello);
    await expectRejected(replay, 'bad_signature');
    expect(await getWorker(welcome.workerId)).toMatchObject({ connected: true });
    expect(warnings()).toEqual([expect.stringContaining(welcome.workerId)]);
  });

  it('rejects a hello of the previous protocol, which had no key, with protocol_version', async () => {
    const agent = await connect();
    const address = uniqueAddress();
    agent.send({
      type: 'hello',
      protocolVersion: 1,
      address,
      slots: 4,
      acceptsCommands: true,
      running: [],
    });
    const reject = await agent.nextFrame('reject');
    expect(reject).toMatchObject({ code: 'protocol_version' });
    expect(reject.type === 'reject' && reject.message).toContain(
      `protocol ${PROTOCOL_VERSION}, agent 1`,
    );
    expect((await agent.closed()).code).toBe(4003);
    const { body } = await api<{ workers: WorkerView[] }>('GET', '/v1/workers');
    expect(body.workers.map((w) => w.address)).not.toContain(address);
  });
});

describe("claims on another worker's task", () => {
  it('refuses every kind of report, answers not_owner and logs one line each', async () => {
    const { agent: owner, workerId: ownerId } = await joinAgent();
    const job = await submitJob({ kind: 'echo' });
    const task = await assignmentOf(owner, job.id);
    const { agent: intruder, workerId: intruderId } = await joinAgent();
    const before = await getTask(task.taskId);

    const ref = { taskId: task.taskId, attempt: task.attempt };
    const attempts: [string, () => void][] = [
      ['started', () => intruder.send({ type: 'started', tasks: [ref] })],
      [
        'progress',
        () => intruder.send({ type: 'progress', tasks: [{ ...ref, rowsRead: 9, bytesRead: 9 }] }),
      ],
      ['log', () => sendLog(intruder, ref, [{ stream: 'stdout', data: 'spoofed' }])],
      ['complete', () => complete(intruder, ref, { forged: true })],
      ['fail', () => fail(intruder, ref, 'forged failure')],
    ];
    for (const [type, send] of attempts) {
      send();
      const error = await intruder.nextFrame('error');
      expect(error, type).toMatchObject({ code: 'not_owner' });
      expect(error.type === 'error' && error.message).toContain(task.taskId);
    }

    const after: TaskView = await getTask(task.taskId);
    expect(after).toEqual(before);
    expect(after).toMatchObject({ state: 'assigned', workerId: ownerId, result: null });
    const lines = warnings();
    expect(lines).toHaveLength(5);
    attempts.forEach(([type], i) => {
      expect(lines[i]).toContain(`worker ${intruderId} sent a ${type} frame`);
      expect(lines[i]).toContain(`${task.taskId}#1`);
    });

    // The owner's own reports still land.
    complete(owner, task);
    await owner.sync();
    expect((await getTask(task.taskId)).state).toBe('succeeded');
  });

  it('keeps ignoring a late report of its own attempt quietly', async () => {
    const { agent } = await joinAgent();
    const job = await submitJob({ kind: 'echo' });
    const task = await assignmentOf(agent, job.id);
    complete(agent, task);
    await agent.sync();
    complete(agent, task, { again: true });
    agent.send({ type: 'started', tasks: [{ taskId: task.taskId, attempt: 1 }] });
    await agent.sync();
    expect(agent.received.some((f) => f.type === 'error' && f.code === 'not_owner')).toBe(false);
    expect(warnings()).toEqual([]);
    expect((await getTask(task.taskId)).result).toBeNull();
  });
});
