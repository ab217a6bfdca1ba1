/** The agent wire protocol against the real Scheduler: real WebSockets through the Worker. */
import { afterEach, describe, expect, it } from 'vitest';
import { SELF } from 'cloudflare:test';
import {
  PROTOCOL_VERSION,
  type CreatedTenantToken,
  type JobView,
  type LogPage,
  type WorkerView,
} from '../../protocol/index.ts';
import {
  api,
  assignmentOf,
  cleanUp,
  complete,
  sendLog,
  connect,
  connectRaw,
  getJob,
  getTask,
  getWorker,
  joinAgent,
  keysOf,
  preRegister,
  registerWorker,
  submitJob,
  uniqueAddress,
  waitFor,
  type TestAgent,
  ADMIN,
} from './helpers.ts';

type ErrorReply = { error: { code: string; message: string } };

afterEach(cleanUp);

/** Reads an NDJSON body line by line as it streams. */
function lineReader(body: ReadableStream<Uint8Array>) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  return async (): Promise<unknown> => {
    for (;;) {
      const newline = buffer.indexOf('\n');
      if (newline >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        return JSON.parse(line) as unknown;
      }
      const { done, value } = await reader.read();
      if (done) return buffer.length > 0 ? JSON.parse(buffer) : null;
      buffer += decoder.decode(value, { stream: true });
    }
  };
}

describe('admission', () => {
  it('refuses a connection without a token', async () => {
    const response = await connectRaw(null);
    expect(response.status).toBe(401);
    expect(response.webSocket).toBeNull();
    expect(((await response.json()) as ErrorReply).error.code).toBe('unauthorized');
  });

  it('refuses a wrong token', async () => {
    const response = await connectRaw('not-the-token');
    expect(response.status).toBe(401);
    expect((await response.json()) as ErrorReply).toEqual({
      error: { code: 'unauthorized', message: 'invalid join token' },
    });
  });

  it("admits a registered worker's own token and binds it to that worker", async () => {
    const { worker, joinToken, address } = await registerWorker();
    const { agent, workerId } = await joinAgent(address, {}, joinToken);
    expect(workerId).toBe(worker.id);
    expect(await getWorker(worker.id)).toMatchObject({ state: 'ready', connected: true, slots: 4 });
    agent.close();
  });

  it("rejects a worker's token used for another address", async () => {
    const { worker, joinToken } = await registerWorker();
    const other = uniqueAddress();
    const agent = await connect(joinToken);
    await agent.hello(other);
    expect(await agent.nextFrame('reject')).toMatchObject({ code: 'address_mismatch' });
    expect((await agent.closed()).code).toBe(4003);
    expect(await getWorker(worker.id)).toMatchObject({ state: 'pending', connected: false });
    const { body } = await api<{ workers: WorkerView[] }>('GET', '/v1/workers');
    expect(body.workers.map((w) => w.address)).not.toContain(other);
  });

  it("refuses a deregistered worker's token", async () => {
    const { worker, joinToken } = await registerWorker();
    await api('DELETE', `/v1/workers/${worker.id}`);
    expect((await connectRaw(joinToken)).status).toBe(401);
  });

  it('rejects another protocol version at hello', async () => {
    const agent = await connect();
    const address = uniqueAddress();
    await agent.hello(address, { protocolVersion: 99 });
    expect(await agent.nextFrame('reject')).toMatchObject({ code: 'protocol_version' });
    expect((await agent.closed()).code).toBe(4003);
    const { body } = await api<{ workers: WorkerView[] }>('GET', '/v1/workers');
    expect(body.workers.map((w) => w.address)).not.toContain(address);
  });
});

describe('frames', () => {
  it('answers bad frames with error frames and applies nothing', async () => {
    const agent = await connect();
    agent.send({ type: 'heartbeat' });
    expect(await agent.nextFrame('error')).toMatchObject({ code: 'hello_required' });
    agent.send('{"type": "hello",');
    expect(await agent.nextFrame('error')).toMatchObject({ code: 'malformed_frame' });
    agent.send({ type: 'launch_missiles' });
    const unknown = await agent.nextFrame('error');
    expect(unknown).toMatchObject({ code: 'invalid_frame' });
    expect(unknown.type === 'error' && unknown.message).toMatch(/at type$/);
    agent.send({
      type: 'hello',
      protocolVersion: PROTOCOL_VERSION,
      address: uniqueAddress(),
      slots: 0,
      acceptsCommands: true,
      running: [],
      publicKey: 'A'.repeat(43),
      signature: 'A'.repeat(86),
    });
    const badHello = await agent.nextFrame('error');
    expect(badHello.type === 'error' && badHello.message).toMatch(/at slots$/);
    agent.ws.send(new TextEncoder().encode('{"type":"heartbeat"}'));
    expect(await agent.nextFrame('error')).toMatchObject({ code: 'binary_frame' });
    expect(agent.closeEvent).toBeNull();
    expect(
      (await api<{ connectedWorkers: number }>('GET', '/v1/health')).body.connectedWorkers,
    ).toBe(0);
  });

  it('welcomes a hello with the worker id, once', async () => {
    const agent = await connect();
    const address = uniqueAddress();
    await preRegister(address, await keysOf(address));
    const welcome = await agent.join(address);
    expect(welcome).toEqual({
      type: 'welcome',
      workerId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      protocolVersion: PROTOCOL_VERSION,
      heartbeatIntervalMs: 5000,
    });
    expect(await getWorker(welcome.workerId)).toMatchObject({
      address,
      state: 'ready',
      connected: true,
    });
    await agent.hello(address);
    expect(await agent.nextFrame('error')).toMatchObject({ code: 'duplicate_hello' });
  });

  it('reports workers with their connection, running tasks and heartbeat age', async () => {
    const { agent, workerId } = await joinAgent(uniqueAddress(), {
      slots: 2,
      acceptsCommands: false,
    });
    const job = await submitJob({ kind: 'echo', count: 2 });
    await assignmentOf(agent, job.id);
    agent.send({ type: 'heartbeat' });
    await agent.sync();
    const { body } = await api<{ workers: WorkerView[] }>('GET', '/v1/workers');
    const view = body.workers.find((w) => w.id === workerId);
    expect(view).toMatchObject({
      state: 'ready',
      connected: true,
      runningTasks: 2,
      slots: 2,
      acceptsCommands: false,
    });
    expect(view?.lastHeartbeatAgeMs).toBeGreaterThanOrEqual(0);
    expect(
      (await api<{ connectedWorkers: number }>('GET', '/v1/health')).body.connectedWorkers,
    ).toBe(1);
  });
});

describe('tasks', () => {
  it("gives each assignment its job's tenant, null for the admin's", async () => {
    const { agent } = await joinAgent();
    const created = await api<CreatedTenantToken>('POST', '/v1/tenants', {
      name: `t-${crypto.randomUUID().slice(0, 8)}`,
    });
    expect(created.status).toBe(201);
    const reply = await api<JobView>(
      'POST',
      '/v1/jobs',
      { kind: 'echo', payload: 1 },
      created.body.token,
    );
    expect(reply.status).toBe(202);
    expect((await assignmentOf(agent, reply.body.id)).tenant).toBe(created.body.tenant.id);
    const own = await submitJob({ kind: 'echo', payload: 2 });
    expect((await assignmentOf(agent, own.id)).tenant).toBeNull();
  });

  it('assigns an echo task and commits its completion', async () => {
    const { agent, workerId } = await joinAgent();
    const job = await submitJob({ kind: 'echo', payload: { greeting: 'hi', n: [1, 2] } });
    const task = await assignmentOf(agent, job.id);
    expect(task).toEqual({
      taskId: job.tasks?.[0]?.id,
      jobId: job.id,
      attempt: 1,
      spec: { kind: 'echo', payload: { greeting: 'hi', n: [1, 2] } },
      tenant: null,
    });
    expect(await getTask(task.taskId)).toMatchObject({ state: 'assigned', attempt: 1, workerId });

    agent.send({ type: 'started', tasks: [{ taskId: task.taskId, attempt: 1 }] });
    await agent.sync();
    expect((await getTask(task.taskId)).state).toBe('running');
    expect((await getJob(job.id)).state).toBe('running');

    complete(agent, task, { echoed: true });
    await agent.sync();
    const done = await getJob(job.id);
    expect(done.state).toBe('succeeded');
    expect(done.counts).toEqual({ queued: 0, running: 0, succeeded: 1, failed: 0, cancelled: 0 });
    expect(done.tasks?.[0]).toMatchObject({
      state: 'succeeded',
      exitCode: 0,
      result: { echoed: true },
      workerId,
    });
    expect(done.finishedAt).not.toBeNull();

    complete(agent, task, { echoed: 'again' });
    await agent.sync();
    const after = await getJob(job.id);
    expect(after).toEqual(done);
  });

  it('ignores a completion for another attempt', async () => {
    const { agent } = await joinAgent();
    const job = await submitJob({ kind: 'echo' });
    const task = await assignmentOf(agent, job.id);
    complete(agent, { taskId: task.taskId, attempt: 2 });
    await agent.sync();
    expect(await getTask(task.taskId)).toMatchObject({
      state: 'assigned',
      attempt: 1,
      result: null,
    });
    expect((await getJob(job.id)).state).toBe('running');
    complete(agent, task);
    await agent.sync();
    expect((await getJob(job.id)).state).toBe('succeeded');
  });

  it('ignores a completion from an agent the task is not assigned to', async () => {
    const { agent: owner } = await joinAgent();
    const job = await submitJob({ kind: 'echo' });
    const task = await assignmentOf(owner, job.id);
    const { agent: other } = await joinAgent();
    complete(other, task);
    await other.sync();
    expect((await getTask(task.taskId)).state).toBe('assigned');
  });

  it('retries a failed attempt while retries last, then fails the job', async () => {
    const { agent } = await joinAgent();
    const job = await submitJob({ kind: 'echo', retries: 1 });
    const first = await assignmentOf(agent, job.id);
    agent.send({
      type: 'fail',
      tasks: [
        {
          taskId: first.taskId,
          attempt: 1,
          exitCode: 3,
          error: { type: 'exit', message: 'boom 1' },
        },
      ],
    });
    const second = await assignmentOf(agent, job.id);
    expect(second).toMatchObject({ taskId: first.taskId, attempt: 2 });
    agent.send({
      type: 'fail',
      tasks: [
        {
          taskId: first.taskId,
          attempt: 2,
          exitCode: 4,
          error: { type: 'exit', message: 'boom 2' },
        },
      ],
    });
    await agent.sync();
    const failed = await getJob(job.id);
    expect(failed).toMatchObject({ state: 'failed', error: 'boom 2' });
    expect(failed.tasks?.[0]).toMatchObject({
      state: 'failed',
      attempt: 2,
      exitCode: 4,
      error: 'boom 2',
    });
    expect(
      agent.inbox.some((f) => f.type === 'assign' && f.tasks.some((t) => t.jobId === job.id)),
    ).toBe(false);
  });

  it('does not retry a non-retryable failure', async () => {
    const { agent } = await joinAgent();
    const job = await submitJob({ kind: 'echo', retries: 5 });
    const task = await assignmentOf(agent, job.id);
    agent.send({
      type: 'fail',
      tasks: [
        {
          taskId: task.taskId,
          attempt: 1,
          error: { type: 'refused', message: 'nope', nonRetryable: true },
        },
      ],
    });
    await agent.sync();
    expect(await getJob(job.id)).toMatchObject({ state: 'failed', error: 'nope' });
  });

  it('requeues the tasks of a closed connection; the old attempt is cancelled when its agent returns', async () => {
    const first = await joinAgent();
    const job = await submitJob({ kind: 'echo' });
    const task = await assignmentOf(first.agent, job.id);
    first.agent.close();
    await waitFor(async () => (await getTask(task.taskId)).state === 'queued', 'task requeued');
    expect(await getWorker(first.workerId)).toMatchObject({
      state: 'lost',
      connected: false,
      runningTasks: 0,
    });

    const second = await joinAgent();
    expect(await assignmentOf(second.agent, job.id)).toMatchObject({
      taskId: task.taskId,
      attempt: 2,
    });

    const back = await connect();
    const welcome = await back.join(first.address, {
      running: [{ taskId: task.taskId, attempt: 1 }],
    });
    expect(welcome.workerId).toBe(first.workerId);
    expect(await back.nextFrame('cancel')).toEqual({
      type: 'cancel',
      tasks: [{ taskId: task.taskId, attempt: 1 }],
      reason: 'no longer assigned to this worker',
    });
    complete(back, { taskId: task.taskId, attempt: 1 });
    await back.sync();
    expect(await getTask(task.taskId)).toMatchObject({
      state: 'assigned',
      attempt: 2,
      workerId: second.workerId,
    });
    complete(second.agent, { taskId: task.taskId, attempt: 2 }, 'from second');
    await second.agent.sync();
    expect(await getTask(task.taskId)).toMatchObject({ state: 'succeeded', result: 'from second' });
    expect(second.agent.received.some((f) => f.type === 'cancel')).toBe(false);
  });

  it('requeues tasks the agent no longer reports holding when it reconnects', async () => {
    const first = await joinAgent();
    const job = await submitJob({ kind: 'echo' });
    const task = await assignmentOf(first.agent, job.id);
    const again = await connect();
    await again.join(first.address, { running: [] });
    expect(await assignmentOf(again, job.id)).toMatchObject({ taskId: task.taskId, attempt: 2 });
  });

  it('treats bye as the end of the connection', async () => {
    const { agent, workerId } = await joinAgent();
    const job = await submitJob({ kind: 'echo' });
    const task = await assignmentOf(agent, job.id);
    agent.send({ type: 'bye', reason: 'shutting down' });
    await agent.sync();
    expect(await getTask(task.taskId)).toMatchObject({ state: 'queued', workerId: null });
    expect((await getWorker(workerId)).state).toBe('lost');
    agent.send({ type: 'heartbeat' });
    expect(await agent.nextFrame('error')).toMatchObject({ code: 'stale_connection' });
    expect((await agent.closed()).code).toBe(4000);
  });

  it('cancels a running job: the agent is told, late completions change nothing', async () => {
    const { agent } = await joinAgent();
    const job = await submitJob({ kind: 'echo' });
    const task = await assignmentOf(agent, job.id);
    const cancelled = await api<{ state: string }>('POST', `/v1/jobs/${job.id}/cancel`);
    expect(cancelled.body.state).toBe('cancelled');
    expect(await agent.nextFrame('cancel')).toEqual({
      type: 'cancel',
      tasks: [{ taskId: task.taskId, attempt: 1 }],
      reason: 'job cancelled',
    });
    complete(agent, task);
    await agent.sync();
    expect(await getTask(task.taskId)).toMatchObject({ state: 'cancelled', result: null });
    expect((await getJob(job.id)).state).toBe('cancelled');
  });

  it('pins one task to each ready worker for "workers": "all"', async () => {
    const a = await joinAgent(uniqueAddress(), { acceptsCommands: true });
    const b = await joinAgent(uniqueAddress(), { acceptsCommands: false });
    const echo = await submitJob({ kind: 'echo', workers: 'all' });
    expect(echo.tasks?.map((t) => t.pinnedWorkerId).sort()).toEqual(
      [a.workerId, b.workerId].sort(),
    );
    const onA = await assignmentOf(a.agent, echo.id);
    const onB = await assignmentOf(b.agent, echo.id);
    expect(onA.taskId).not.toBe(onB.taskId);
    expect((await getTask(onA.taskId)).pinnedWorkerId).toBe(a.workerId);
    expect((await getTask(onB.taskId)).pinnedWorkerId).toBe(b.workerId);

    const command = await submitJob({ kind: 'command', command: ['true'], workers: 'all' });
    expect(command.tasks?.map((t) => t.pinnedWorkerId)).toEqual([a.workerId]);
    expect(await assignmentOf(a.agent, command.id)).toMatchObject({
      spec: { kind: 'command', command: ['true'], path: '.', env: {} },
    });
    await b.agent.sync();
    expect(
      b.agent.received.some(
        (f) => f.type === 'assign' && f.tasks.some((t) => t.jobId === command.id),
      ),
    ).toBe(false);
  });

  it('never gives a command task to an agent that does not accept commands', async () => {
    const { agent } = await joinAgent(uniqueAddress(), { acceptsCommands: false });
    const job = await submitJob({ kind: 'command', command: 'echo hi' });
    await agent.sync();
    expect(agent.received.some((f) => f.type === 'assign')).toBe(false);
    expect((await getJob(job.id)).state).toBe('queued');
  });

  it('places nothing new on an agent that announced its own drain, and says so in its view', async () => {
    const draining = await joinAgent(uniqueAddress());
    draining.agent.send({ type: 'draining' });
    await draining.agent.sync();
    expect(await getWorker(draining.workerId)).toMatchObject({
      state: 'ready',
      connected: true,
      acceptingTasks: false,
    });
    const other = await joinAgent(uniqueAddress());
    const job = await submitJob({ kind: 'echo', count: 5 });
    const frame = await other.agent.nextFrame('assign');
    expect(frame.type === 'assign' && frame.tasks.every((t) => t.jobId === job.id)).toBe(true);
    await draining.agent.sync();
    expect(draining.agent.received.some((f) => f.type === 'assign')).toBe(false);
  });

  it('respects the slots an agent announces for command tasks', async () => {
    const { agent } = await joinAgent(uniqueAddress(), { slots: 2 });
    const job = await submitJob({ kind: 'command', command: 'sleep 1', workers: 3 });
    const frame = await agent.nextFrame('assign');
    expect(frame.type === 'assign' && frame.tasks.length).toBe(2);
    await agent.sync();
    expect((await getJob(job.id)).counts).toMatchObject({ queued: 1, running: 2 });
    const first = frame.type === 'assign' ? frame.tasks[0] : undefined;
    if (!first) throw new Error('no task');
    complete(agent, first);
    expect(await assignmentOf(agent, job.id)).toMatchObject({ attempt: 1 });
  });
});

describe('placement', () => {
  it('places echo tasks queued behind command tasks that no agent can run', async () => {
    const { agent } = await joinAgent(uniqueAddress(), { acceptsCommands: false });
    await submitJob({ kind: 'command', command: 'true', workers: 10 });
    const echo = await submitJob({ kind: 'echo' });
    expect(await assignmentOf(agent, echo.id)).toMatchObject({ attempt: 1 });
  });

  // BUG (durable-objects/dispatch.ts, queuedTasks): each round loads only the first `budget`
  // (= free inflight, 512 per idle agent) unpinned queued tasks. When that many command tasks no
  // connected agent can run sit at the head of the queue, every later task (an echo probe here)
  // is never even offered to placement and waits forever.
  it('places echo tasks queued behind more unrunnable command tasks than one round loads', async () => {
    const { agent } = await joinAgent(uniqueAddress(), { acceptsCommands: false });
    await submitJob({ kind: 'command', command: 'true', workers: 600 });
    const echo = await submitJob({ kind: 'echo' });
    await agent.sync();
    expect((await getJob(echo.id)).state).toBe('running');
  });

  // BUG (durable-objects/placement.ts, fits): after re-registering a busy worker with fewer slots,
  // its free slots go negative and it refuses even cost-0 echo tasks, which should ignore slots.
  it('places echo tasks on a worker whose slots were lowered below its running commands', async () => {
    const { address, joinToken } = await registerWorker();
    const { agent } = await joinAgent(address, { slots: 2 }, joinToken);
    const commands = await submitJob({ kind: 'command', command: 'sleep 9', workers: 2 });
    await assignmentOf(agent, commands.id);
    expect((await api('POST', '/v1/workers', { address, slots: 1 })).status).toBe(200);
    const echo = await submitJob({ kind: 'echo' });
    await agent.sync();
    expect((await getJob(echo.id)).state).toBe('running');
  });

  it('holds a submit with ?wait until the job ends', async () => {
    const { agent } = await joinAgent();
    const reply = SELF.fetch('http://scheduler.test/v1/jobs?wait=30', {
      method: 'POST',
      headers: ADMIN,
      body: JSON.stringify({ kind: 'echo', payload: 'w' }),
    });
    const frame = await agent.nextFrame(
      (f) =>
        f.type === 'assign' &&
        f.tasks.some((t) => t.spec.kind === 'echo' && t.spec.payload === 'w'),
    );
    const task = frame.type === 'assign' ? frame.tasks[0] : undefined;
    if (!task) throw new Error('no task');
    complete(agent, task, 'waited');
    const response = await reply;
    expect(response.status).toBe(202);
    const job = (await response.json()) as {
      id: string;
      state: string;
      tasks: { result: unknown }[];
    };
    expect(job).toMatchObject({
      id: task.jobId,
      state: 'succeeded',
      tasks: [{ result: 'waited' }],
    });
  });
});

describe('connections', () => {
  it('lets a new connection for the same address replace the old one', async () => {
    const old = await joinAgent();
    const job = await submitJob({ kind: 'echo' });
    const task = await assignmentOf(old.agent, job.id);
    const fresh = await connect();
    const welcome = await fresh.join(old.address, {
      running: [{ taskId: task.taskId, attempt: 1 }],
    });
    expect(welcome.workerId).toBe(old.workerId);
    expect((await old.agent.closed()).code).toBe(4000);
    const seenByOld = old.agent.received.length;

    const next = await submitJob({ kind: 'echo' });
    await assignmentOf(fresh, next.id);
    expect(fresh.received.some((f) => f.type === 'cancel')).toBe(false);
    complete(fresh, task, 'held across reconnect');
    await fresh.sync();
    expect(await getTask(task.taskId)).toMatchObject({
      state: 'succeeded',
      attempt: 1,
      result: 'held across reconnect',
    });
    expect(await getWorker(old.workerId)).toMatchObject({ state: 'ready', connected: true });
    expect(old.agent.received.length).toBe(seenByOld);
  });

  it('drains a busy worker on DELETE, then retires it when its task ends', async () => {
    const { agent, workerId } = await joinAgent();
    const job = await submitJob({ kind: 'echo' });
    const task = await assignmentOf(agent, job.id);
    const drain = await api<WorkerView>('DELETE', `/v1/workers/${workerId}`);
    expect(drain.status).toBe(202);
    expect(drain.body).toMatchObject({ state: 'draining', runningTasks: 1 });
    await agent.nextFrame('drain');

    const later = await submitJob({ kind: 'echo' });
    await agent.sync();
    expect((await getJob(later.id)).state).toBe('queued');

    complete(agent, task);
    expect(await agent.nextFrame('bye')).toEqual({ type: 'bye', reason: 'deregistered' });
    expect((await agent.closed()).code).toBe(1000);
    expect((await getJob(job.id)).state).toBe('succeeded');
    expect(await getWorker(workerId)).toMatchObject({ state: 'gone', connected: false });
    expect(
      agent.received.some((f) => f.type === 'assign' && f.tasks.some((t) => t.jobId === later.id)),
    ).toBe(false);
  });

  it('retires an idle connected worker at once on DELETE and says bye', async () => {
    const { agent, workerId } = await joinAgent();
    const reply = await api<WorkerView>('DELETE', `/v1/workers/${workerId}`);
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({ state: 'gone', connected: false });
    const drain = await agent.nextFrame('drain');
    expect(drain).toEqual({ type: 'drain' });
    expect(await agent.nextFrame('bye')).toEqual({ type: 'bye', reason: 'deregistered' });
    expect((await agent.closed()).code).toBe(1000);
    expect(agent.received.some((f) => f.type === 'cancel')).toBe(false);
  });

  it('tells a draining worker to drain again when it reconnects', async () => {
    const { agent, workerId, address } = await joinAgent();
    const job = await submitJob({ kind: 'echo' });
    const task = await assignmentOf(agent, job.id);
    await api('DELETE', `/v1/workers/${workerId}`);
    const again = await connect();
    await again.join(address, { running: [{ taskId: task.taskId, attempt: 1 }] });
    await again.nextFrame('drain');
    expect((await getWorker(workerId)).state).toBe('draining');
  });

  it('retires a busy worker at once on DELETE ?force=true', async () => {
    const { agent, workerId } = await joinAgent();
    const job = await submitJob({ kind: 'echo' });
    const task = await assignmentOf(agent, job.id);
    const forced = await api<WorkerView>('DELETE', `/v1/workers/${workerId}?force=true`);
    expect(forced.status).toBe(200);
    expect(forced.body).toMatchObject({ state: 'gone', connected: false, runningTasks: 0 });
    expect(await getTask(task.taskId)).toMatchObject({
      state: 'queued',
      workerId: null,
      attempt: 1,
    });
    expect(await agent.nextFrame('cancel')).toEqual({
      type: 'cancel',
      tasks: [{ taskId: task.taskId, attempt: 1 }],
      reason: 'worker deregistered',
    });
    await agent.nextFrame('bye');
    expect((await agent.closed()).code).toBe(1000);
    const types = agent.received.map((f) => f.type);
    expect(types.indexOf('cancel')).toBeLessThan(types.indexOf('bye'));

    const { agent: next } = await joinAgent();
    expect(await assignmentOf(next, job.id)).toMatchObject({ taskId: task.taskId, attempt: 2 });
  });
});

describe('logs', () => {
  it('stores log chunks in order and serves them by task and job', async () => {
    const { agent } = await joinAgent();
    const job = await submitJob({ kind: 'echo' });
    const task = await assignmentOf(agent, job.id);
    // One frame: with the CPU saturated, the test runtime was seen handing this socket's frames to
    // the Scheduler out of order, even with a round trip between them (in CI, once), which is not
    // what this test is about. The order within a frame is the Scheduler's to keep.
    sendLog(agent, task, [
      { stream: 'stdout', data: 'one\n' },
      { stream: 'stderr', data: 'two\n' },
      { stream: 'stdout', data: 'three ☃\n' },
    ]);
    await agent.sync();
    const page = (await api<LogPage>('GET', `/v1/tasks/${task.taskId}/logs`)).body;
    expect(page.entries.map((e) => [e.stream, e.data, e.attempt, e.taskId])).toEqual([
      ['stdout', 'one\n', 1, task.taskId],
      ['stderr', 'two\n', 1, task.taskId],
      ['stdout', 'three ☃\n', 1, task.taskId],
    ]);
    const seqs = page.entries.map((e) => e.seq);
    expect([...seqs].sort((x, y) => x - y)).toEqual(seqs);
    expect(new Set(seqs).size).toBe(3);
    expect(page).toMatchObject({ next: seqs[2], done: false });
    expect((await api<LogPage>('GET', `/v1/jobs/${job.id}/logs`)).body.entries).toEqual(
      page.entries,
    );
    const rest = (
      await api<LogPage>('GET', `/v1/tasks/${task.taskId}/logs?after=${seqs[0]}&limit=1`)
    ).body;
    expect(rest.entries.map((e) => e.data)).toEqual(['two\n']);
    expect(rest.next).toBe(seqs[1]);
  });

  it('truncates output past the limit with a system marker, without splitting characters', async () => {
    const { agent } = await joinAgent();
    const job = await submitJob({ kind: 'echo' });
    const task = await assignmentOf(agent, job.id);
    // One round trip per frame, for the reason given in the test above.
    sendLog(agent, task, [{ stream: 'stdout', data: 'a'.repeat(3000) }]);
    await agent.sync();
    sendLog(agent, task, [
      { stream: 'stdout', data: '€'.repeat(1000) },
      { stream: 'stderr', data: 'never stored' },
    ]);
    await agent.sync();
    sendLog(agent, task, [{ stream: 'stdout', data: 'after the limit' }]);
    await agent.sync();
    const entries = (await api<LogPage>('GET', `/v1/tasks/${task.taskId}/logs`)).body.entries;
    expect(entries.map((e) => e.stream)).toEqual(['stdout', 'stdout', 'system']);
    expect(entries[1]?.data).toBe('€'.repeat(365)); // 4096 - 3000 = 1096 bytes; 365 × 3 = 1095
    expect(entries[2]?.data).toMatch(/output truncated.*4096 bytes/);
    const stored = entries
      .slice(0, 2)
      .reduce((sum, e) => sum + new TextEncoder().encode(e.data).length, 0);
    expect(stored).toBeLessThanOrEqual(4096);
    expect((await getTask(task.taskId)).logTruncated).toBe(true);
  });

  it('refuses log frames for tasks the agent does not hold', async () => {
    const { agent: owner } = await joinAgent();
    const job = await submitJob({ kind: 'echo' });
    const task = await assignmentOf(owner, job.id);
    const { agent: intruder } = await joinAgent();
    sendLog(intruder, task, [{ stream: 'stdout', data: 'spoofed' }]);
    expect(await intruder.nextFrame('error')).toMatchObject({ code: 'not_owner' });
    sendLog(owner, { taskId: task.taskId, attempt: 2 }, [
      { stream: 'stdout', data: 'wrong attempt' },
    ]);
    expect(await owner.nextFrame('error')).toMatchObject({ code: 'not_owner' });
    sendLog(owner, { taskId: crypto.randomUUID(), attempt: 1 }, [
      { stream: 'stdout', data: 'no such task' },
    ]);
    expect(await owner.nextFrame('error')).toMatchObject({ code: 'not_owner' });
    expect((await api<LogPage>('GET', `/v1/tasks/${task.taskId}/logs`)).body.entries).toEqual([]);
  });

  it('follows a task: backlog, then live entries, then the end line', async () => {
    const { agent } = await joinAgent();
    const job = await submitJob({ kind: 'echo' });
    const task = await assignmentOf(agent, job.id);
    sendLog(agent, task, [{ stream: 'stdout', data: 'backlog\n' }]);
    await agent.sync();

    const byTask = await SELF.fetch(
      `http://scheduler.test/v1/tasks/${task.taskId}/logs?follow=true`,
      { headers: ADMIN },
    );
    const byJob = await SELF.fetch(`http://scheduler.test/v1/jobs/${job.id}/logs?follow=true`, {
      headers: ADMIN,
    });
    expect(byTask.status).toBe(200);
    expect(byTask.headers.get('content-type')).toBe('application/x-ndjson');
    if (!byTask.body || !byJob.body) throw new Error('no body');
    const taskLine = lineReader(byTask.body);
    const jobLine = lineReader(byJob.body);
    expect(await taskLine()).toMatchObject({ data: 'backlog\n', stream: 'stdout', attempt: 1 });
    expect(await jobLine()).toMatchObject({ data: 'backlog\n' });

    sendLog(agent, task, [{ stream: 'stderr', data: 'live\n' }]);
    expect(await taskLine()).toMatchObject({
      data: 'live\n',
      stream: 'stderr',
      taskId: task.taskId,
    });
    expect(await jobLine()).toMatchObject({ data: 'live\n' });

    complete(agent, task);
    expect(await taskLine()).toEqual({ end: true, state: 'succeeded' });
    expect(await taskLine()).toBeNull();
    expect(await jobLine()).toEqual({ end: true, state: 'succeeded' });
    expect(await jobLine()).toBeNull();
  });

  it('follows from a sequence number', async () => {
    const { agent } = await joinAgent();
    const job = await submitJob({ kind: 'echo' });
    const task = await assignmentOf(agent, job.id);
    sendLog(agent, task, [
      { stream: 'stdout', data: 'a' },
      { stream: 'stdout', data: 'b' },
    ]);
    complete(agent, task);
    await agent.sync();
    const [first] = (await api<LogPage>('GET', `/v1/tasks/${task.taskId}/logs`)).body.entries;
    const response = await SELF.fetch(
      `http://scheduler.test/v1/tasks/${task.taskId}/logs?follow=true&after=${first?.seq}`,
      { headers: ADMIN },
    );
    if (!response.body) throw new Error('no body');
    const next = lineReader(response.body);
    expect(await next()).toMatchObject({ data: 'b' });
    expect(await next()).toEqual({ end: true, state: 'succeeded' });
  });
});
