/**
 * The real tm-agent process against a fake control plane (a `ws` server): challenge and signed
 * handshake, batching, commands, cancel, reconnects, bad frames, refused upgrades and keys,
 * drain, bye and forced exit.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createHash, createPublicKey, randomBytes, randomUUID, verify } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { mkdtemp, realpath, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocketServer } from 'ws';
import { agentBin } from '../../cli/local/agent-build.ts';
import type WebSocket from 'ws';
import { MAX_FRAME_BYTES, PROTOCOL_VERSION, helloMessage } from '../../protocol/index.ts';
import type { Assignment } from '../../protocol/index.ts';
import { assignment, commandSpec, eventually } from './agent-helpers.ts';
import { processAlive } from '../support/wait.ts';

const TOKEN = 'tm-test-join-token-5d0c';
const WORKER_ID = randomUUID();

type Frame = { type: string } & Record<string, unknown>;

/** One agent connection as the fake control plane sees it. */
class Peer {
  readonly frames: Frame[] = [];
  private readonly listeners = new Set<() => void>();
  closed = false;
  /** The nonce of the challenge this connection was sent, once sent. */
  nonce: string | null = null;

  constructor(
    readonly socket: WebSocket,
    readonly request: IncomingMessage,
  ) {
    socket.on('message', (data) => {
      this.frames.push(JSON.parse(String(data)) as Frame);
      for (const listener of this.listeners) listener();
    });
    socket.on('close', () => (this.closed = true));
  }

  send(frame: object | string): void {
    this.socket.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** Opens the handshake as the Scheduler does: a fresh 32-byte nonce. */
  challenge(): void {
    this.nonce = randomBytes(32).toString('base64url');
    this.send({ type: 'challenge', nonce: this.nonce });
  }

  welcome(heartbeatIntervalMs = 10_000): void {
    this.send({
      type: 'welcome',
      workerId: WORKER_ID,
      protocolVersion: PROTOCOL_VERSION,
      heartbeatIntervalMs,
    });
  }

  assign(tasks: Assignment[]): void {
    this.send({ type: 'assign', tasks });
  }

  /** The first received frame matching `match`, waiting for it if need be. */
  next(match: (frame: Frame) => boolean, what: string, timeoutMs = 8000): Promise<Frame> {
    const found = this.frames.find(match);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.listeners.delete(check);
        reject(
          new Error(
            `timed out waiting for ${what}; got ${JSON.stringify(this.frames.map((f) => f.type))}`,
          ),
        );
      }, timeoutMs);
      const check = () => {
        const frame = this.frames.find(match);
        if (!frame) return;
        clearTimeout(timer);
        this.listeners.delete(check);
        resolve(frame);
      };
      this.listeners.add(check);
    });
  }

  ofType(type: string): Frame[] {
    return this.frames.filter((frame) => frame.type === type);
  }
}

/**
 * A control plane that accepts agents on /v1/agent/connect and challenges them (unless
 * `challenges` is false), or refuses the next few with 401.
 */
class FakeControlPlane {
  readonly peers: Peer[] = [];
  refuseNext = 0;
  refused = 0;
  challenges = true;
  private readonly waiters: ((peer: Peer) => void)[] = [];
  private readonly wss = new WebSocketServer({ noServer: true });

  private constructor(readonly http: Server) {
    http.on('upgrade', (request, socket, head) => {
      if (this.refuseNext > 0 || request.url !== '/v1/agent/connect') {
        this.refuseNext--;
        this.refused++;
        socket.end('HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
        return;
      }
      this.wss.handleUpgrade(request, socket, head, (ws) => {
        const peer = new Peer(ws, request);
        if (this.challenges) peer.challenge();
        this.peers.push(peer);
        this.waiters.shift()?.(peer);
      });
    });
  }

  static async start(): Promise<FakeControlPlane> {
    const http = createServer();
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    return new FakeControlPlane(http);
  }

  get url(): string {
    return `http://127.0.0.1:${(this.http.address() as AddressInfo).port}`;
  }

  /** The `index`-th connection (0 = first), once it said hello. */
  async peer(index: number): Promise<Peer> {
    const peer =
      this.peers[index] ??
      (await new Promise<Peer>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no connection #${index}`)), 8000);
        this.waiters.push((connected) => {
          clearTimeout(timer);
          resolve(connected);
        });
      }));
    await peer.next((frame) => frame.type === 'hello', 'hello');
    return peer;
  }

  async stop(): Promise<void> {
    for (const client of this.wss.clients) client.terminate();
    this.wss.close();
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
  }
}

interface AgentUnderTest {
  child: ChildProcess;
  address: string;
  stderr: () => string;
  exited: Promise<number | null>;
  workDir: string;
  keyFile: string;
}

async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const started: AgentUnderTest[] = [];
const planes: FakeControlPlane[] = [];
const taskPids: number[] = [];

/**
 * Starts tm-agent against `plane`; on a free port unless `fixedAddress` is given, with its key
 * in a temp dir unless `keyFile` is given.
 */
async function startAgent(
  plane: FakeControlPlane,
  extra: string[] = [],
  fixedAddress?: string,
  keyFile?: string,
): Promise<AgentUnderTest> {
  const workDir = await realpath(await mkdtemp(join(tmpdir(), 'tm-agent-conn-')));
  const address = fixedAddress ?? `127.0.0.1:${await freePort()}`;
  const key = keyFile ?? join(workDir, '.state', 'agent-key.pem');
  const child = spawn(
    process.execPath,
    [
      agentBin,
      '--control-plane',
      plane.url,
      '--address',
      address,
      '--slots',
      '2',
      '--work-dir',
      workDir,
      '--kill-grace-ms',
      '500',
      '--key-file',
      key,
      // JSON lines, which the tests parse.
      '--log-format',
      'json',
      // Unsandboxed unless a test asks: these tests watch task processes by their host pids.
      ...(extra.includes('--isolation') ? [] : ['--isolation', 'none']),
      ...extra,
    ],
    { env: { ...process.env, TM_JOIN_TOKEN: TOKEN }, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (data: Buffer) => (stderr += data.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const agent = { child, address, stderr: () => stderr, exited, workDir, keyFile: key };
  started.push(agent);
  return agent;
}

async function setup(extra: string[] = []) {
  const plane = await FakeControlPlane.start();
  planes.push(plane);
  const agent = await startAgent(plane, extra);
  return { plane, agent };
}

/** The agent is alive and its socket open: a next echo task still completes on it. */
async function expectStillServing(peer: Peer, agent: AgentUnderTest): Promise<void> {
  const task = assignment({ kind: 'echo', payload: 'still here' });
  peer.assign([task]);
  const complete = await peer.next((frame) => frame.type === 'complete', 'complete');
  expect(complete.tasks).toEqual([{ taskId: task.taskId, attempt: 1, result: 'still here' }]);
  expect(agent.child.exitCode).toBeNull();
  expect(peer.closed).toBe(false);
}

/** The pid a `echo $$; exec sleep 100` task prints, from its log frames. */
function pidIn(peer: Peer, taskId: string): Promise<number> {
  return eventually(() => {
    const text = peer
      .ofType('log')
      .filter((frame) => frame.taskId === taskId)
      .flatMap((frame) => (frame.chunks as { data: string }[]).map((chunk) => chunk.data))
      .join('');
    const line = text.split('\n')[0];
    if (!line || !/^\d+$/.test(line)) return undefined;
    taskPids.push(Number(line));
    return Number(line);
  }, 'the task to print its pid');
}

/** Whether the peer's hello is signed by its key for the peer's nonce and the hello's address. */
function helloVerifies(peer: Peer, nonce = peer.nonce): boolean {
  const hello = peer.frames.find((frame) => frame.type === 'hello');
  if (!hello || !nonce) return false;
  const key = createPublicKey({
    key: { kty: 'OKP', crv: 'Ed25519', x: String(hello.publicKey) },
    format: 'jwk',
  });
  return verify(
    null,
    Buffer.from(helloMessage(nonce, String(hello.address))),
    key,
    Buffer.from(String(hello.signature), 'base64url'),
  );
}

/** The base64 lines of a PEM key file; none when there is no file. */
function keyLines(file: string): string[] {
  try {
    return readFileSync(file, 'utf8')
      .split('\n')
      .filter((line) => line.length > 20);
  } catch {
    return [];
  }
}

afterEach(async () => {
  for (const agent of started.splice(0)) {
    if (agent.child.exitCode === null && agent.child.signalCode === null) {
      // Two signals: the second makes the agent kill every task group and leave at once.
      agent.child.kill('SIGTERM');
      await new Promise((resolve) => setTimeout(resolve, 150));
      if (agent.child.exitCode === null) agent.child.kill('SIGTERM');
      const timer = setTimeout(() => agent.child.kill('SIGKILL'), 3000);
      await agent.exited;
      clearTimeout(timer);
    }
    expect(agent.stderr()).not.toContain(TOKEN);
    // Keys are never logged.
    for (const line of keyLines(agent.keyFile)) expect(agent.stderr()).not.toContain(line);
    await rm(agent.workDir, { recursive: true, force: true });
  }
  for (const pid of taskPids.splice(0)) {
    if (processAlive(pid)) process.kill(pid, 'SIGKILL');
  }
  for (const plane of planes.splice(0)) await plane.stop();
});

describe('tm-agent against a control plane', { timeout: 20_000 }, () => {
  it('sends the token as a bearer header, says hello, heartbeats after welcome, and serves health', async () => {
    const { plane, agent } = await setup();
    const peer = await plane.peer(0);
    expect(peer.request.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(peer.frames[0]).toEqual({
      type: 'hello',
      protocolVersion: PROTOCOL_VERSION,
      address: agent.address,
      slots: 2,
      acceptsCommands: true,
      executors: [],
      isolation: 'none',
      agentVersion: expect.any(String),
      running: [],
      draining: false,
      // Where peers hand it records for its stream tasks: a port it listens on.
      dataPort: expect.any(Number),
      publicKey: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      signature: expect.stringMatching(/^[A-Za-z0-9_-]{86}$/),
    });
    expect(helloVerifies(peer)).toBe(true);
    peer.welcome(100);
    await peer.next((frame) => frame.type === 'heartbeat', 'a heartbeat');
    const health = await eventually(async () => {
      const body = (await (await fetch(`http://${agent.address}/healthz`)).json()) as Record<
        string,
        unknown
      >;
      return body.connected ? body : undefined;
    }, 'healthz to report the connection');
    expect(health).toEqual({
      ok: true,
      connected: true,
      workerId: WORKER_ID,
      address: agent.address,
      runningTasks: 0,
      slots: 2,
    });
  });

  it('completes two echo tasks in one complete frame', async () => {
    const { plane } = await setup();
    const peer = await plane.peer(0);
    peer.welcome();
    const tasks = [assignment({ kind: 'echo', payload: { n: 1 } }), assignment({ kind: 'echo' })];
    peer.assign(tasks);
    const complete = await peer.next((frame) => frame.type === 'complete', 'complete');
    expect(complete.tasks).toEqual([
      { taskId: tasks[0]?.taskId, attempt: 1, result: { n: 1 } },
      { taskId: tasks[1]?.taskId, attempt: 1, result: null },
    ]);
    // Nothing else follows for these tasks.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(
      peer.frames.filter((frame) => frame.type !== 'heartbeat').map((frame) => frame.type),
    ).toEqual(['hello', 'complete']);
  });

  it('runs a command task: started, log, complete', async () => {
    const { plane } = await setup();
    const peer = await plane.peer(0);
    peer.welcome();
    const task = assignment(commandSpec('echo hello; echo oops >&2'));
    peer.assign([task]);
    const complete = await peer.next((frame) => frame.type === 'complete', 'complete');
    expect(complete.tasks).toEqual([{ taskId: task.taskId, attempt: 1, exitCode: 0 }]);
    const types = peer.frames.map((frame) => frame.type);
    expect(types.indexOf('started')).toBeGreaterThan(0);
    expect(types.indexOf('log')).toBeGreaterThan(types.indexOf('started'));
    expect(types.indexOf('complete')).toBeGreaterThan(types.lastIndexOf('log'));
    const chunks = peer
      .ofType('log')
      .flatMap((frame) => frame.chunks as { stream: string; data: string }[]);
    expect(
      chunks
        .filter((chunk) => chunk.stream === 'stdout')
        .map((chunk) => chunk.data)
        .join(''),
    ).toBe('hello\n');
    expect(
      chunks
        .filter((chunk) => chunk.stream === 'stderr')
        .map((chunk) => chunk.data)
        .join(''),
    ).toBe('oops\n');
  });

  it('kills a cancelled task and reports it as cancelled', async () => {
    const { plane } = await setup();
    const peer = await plane.peer(0);
    peer.welcome();
    const task = assignment(commandSpec('echo $$; exec sleep 100'));
    peer.assign([task]);
    const pid = await pidIn(peer, task.taskId);
    expect(processAlive(pid)).toBe(true);
    peer.send({
      type: 'cancel',
      tasks: [{ taskId: task.taskId, attempt: 1 }],
      reason: 'job cancelled',
    });
    const fail = await peer.next((frame) => frame.type === 'fail', 'fail');
    expect(fail.tasks).toEqual([
      { taskId: task.taskId, attempt: 1, error: { type: 'cancelled', message: 'job cancelled' } },
    ]);
    await eventually(() => (processAlive(pid) ? undefined : true), 'the process to die');
  });

  it('reconnects when the control plane drops it and lists its running task in hello', async () => {
    const { plane } = await setup();
    const first = await plane.peer(0);
    first.welcome();
    const task = assignment(commandSpec('echo $$; exec sleep 100'));
    const echo = assignment({ kind: 'echo' });
    first.assign([task, echo]);
    const pid = await pidIn(first, task.taskId);
    await first.next((frame) => frame.type === 'complete', 'the echo task to complete');
    first.socket.terminate();

    // The echo task's report left on the old socket, so only the running task is still held.
    const second = await plane.peer(1);
    expect(second.frames[0]).toMatchObject({
      type: 'hello',
      running: [{ taskId: task.taskId, attempt: 1 }],
    });
    expect(processAlive(pid)).toBe(true);
    second.welcome();
    second.send({
      type: 'cancel',
      tasks: [{ taskId: task.taskId, attempt: 1 }],
      reason: 'cleanup',
    });
    await second.next((frame) => frame.type === 'fail', 'fail on the new connection');
    await eventually(() => (processAlive(pid) ? undefined : true), 'the process to die');
  });

  it('keeps a finished task’s report while disconnected and sends it after the next welcome', async () => {
    const { plane } = await setup();
    const first = await plane.peer(0);
    first.welcome();
    const task = assignment(commandSpec('sleep 0.4; echo late'));
    first.assign([task]);
    await first.next((frame) => frame.type === 'started', 'started');
    first.socket.terminate();
    // Refuse reconnects until the task has surely finished, so its report has to wait.
    plane.refuseNext = 1_000;
    await eventually(() => (plane.refused >= 2 ? true : undefined), 'refused reconnects');
    await new Promise((resolve) => setTimeout(resolve, 600));
    plane.refuseNext = 0;
    const second = await plane.peer(1);
    expect(second.frames[0]).toMatchObject({
      type: 'hello',
      running: [{ taskId: task.taskId, attempt: 1 }],
    });
    expect(second.ofType('complete')).toEqual([]);
    second.welcome();
    const complete = await second.next(
      (frame) => frame.type === 'complete',
      'complete after welcome',
    );
    expect(complete.tasks).toEqual([{ taskId: task.taskId, attempt: 1, exitCode: 0 }]);
    const logs = second
      .ofType('log')
      .flatMap((frame) => (frame.chunks as { data: string }[]).map((c) => c.data));
    expect(logs.join('')).toBe('late\n');
  });

  it('ignores malformed frames and keeps working', async () => {
    const { plane, agent } = await setup();
    const peer = await plane.peer(0);
    peer.welcome();
    peer.send('this is not json');
    peer.send('{"type":"assign","tasks":[]}');
    peer.send('{"type":"launch-missiles"}');
    peer.send(
      JSON.stringify({
        type: 'assign',
        tasks: [{ ...assignment({ kind: 'echo' }), taskId: 'nope' }],
      }),
    );
    peer.socket.send(Buffer.from([1, 2, 3]), { binary: true });
    await expectStillServing(peer, agent);
    expect(agent.stderr().match(/ignored a bad frame/g)?.length).toBe(5);
  });

  it('fails the tasks of a frame nested 1,800 deep or over the frame size, and keeps its socket', async () => {
    const { plane, agent } = await setup();
    const peer = await plane.peer(0);
    peer.welcome();
    // The attack of issue 22: zod overflowed the stack on this, uncaught, and the agent died.
    const deep = assignment({ kind: 'echo' });
    const nested = '{"a":'.repeat(1800) + '1' + '}'.repeat(1800);
    peer.send(
      JSON.stringify({ type: 'assign', tasks: [deep] }).replace(
        '"kind":"echo"',
        `"kind":"echo","payload":${nested}`,
      ),
    );
    // Over MAX_FRAME_BYTES: ws used to close the socket with 1009, losing every task on it.
    const big = assignment({ kind: 'echo', payload: 'x'.repeat(MAX_FRAME_BYTES + 10) });
    peer.assign([big]);
    const failed = async (taskId: string) =>
      (
        await peer.next(
          (frame) =>
            frame.type === 'fail' &&
            (frame.tasks as { taskId: string }[]).some((task) => task.taskId === taskId),
          `a fail for ${taskId}`,
        )
      ).tasks as {
        taskId: string;
        attempt: number;
        error: { type: string; message: string; nonRetryable?: boolean };
      }[];
    const deepFail = (await failed(deep.taskId)).find((task) => task.taskId === deep.taskId);
    expect(deepFail?.error).toMatchObject({ type: 'refused', nonRetryable: true });
    expect(deepFail?.error.message).toMatch(/frame_too_deep.*72 levels/);
    const bigFail = (await failed(big.taskId)).find((task) => task.taskId === big.taskId);
    expect(bigFail?.error.message).toMatch(/frame_too_large/);
    await expectStillServing(peer, agent);
    expect(plane.peers).toHaveLength(1);
  });

  it('logs a refused upgrade with its status and retries', async () => {
    const plane = await FakeControlPlane.start();
    planes.push(plane);
    plane.refuseNext = 2;
    const agent = await startAgent(plane);
    const peer = await plane.peer(0);
    expect(plane.refused).toBe(2);
    expect(peer.request.headers.authorization).toBe(`Bearer ${TOKEN}`);
    const refusals = agent
      .stderr()
      .split('\n')
      .filter((line) => line.includes('refused the connection'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(refusals).toHaveLength(2);
    expect(refusals[0]).toMatchObject({ level: 'warn', status: 401 });
  });

  it('exits with a clear error when its health port is taken', async () => {
    const plane = await FakeControlPlane.start();
    planes.push(plane);
    const blocker = createNetServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as AddressInfo;
    try {
      const agent = await startAgent(plane, [], `127.0.0.1:${port}`);
      expect(await agent.exited).toBe(1);
      expect(agent.stderr()).toContain(
        `cannot serve /healthz on 127.0.0.1:${port}: the port is already in use`,
      );
      expect(plane.peers).toEqual([]);
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });

  it('drains on the first SIGTERM: refuses new tasks, finishes running ones, then exits 0', async () => {
    const { plane, agent } = await setup();
    const peer = await plane.peer(0);
    peer.welcome();
    const running = assignment(commandSpec('sleep 0.5; echo finished'));
    peer.assign([running]);
    await peer.next((frame) => frame.type === 'started', 'started');
    agent.child.kill('SIGTERM');
    // The control plane hears of the drain at once, so it stops placing work here.
    await peer.next((frame) => frame.type === 'draining', 'the draining notice');
    const late = assignment({ kind: 'echo' });
    peer.assign([late]);
    const refused = await peer.next((frame) => frame.type === 'fail', 'the refusal');
    expect(refused.tasks).toEqual([
      {
        taskId: late.taskId,
        attempt: 1,
        error: { type: 'refused', message: expect.stringMatching(/draining/) },
      },
    ]);
    const complete = await peer.next((frame) => frame.type === 'complete', 'complete');
    expect(complete.tasks).toEqual([{ taskId: running.taskId, attempt: 1, exitCode: 0 }]);
    expect(await agent.exited).toBe(0);
    expect(peer.ofType('bye')).toHaveLength(1);
    // Both reports were confirmed as written, so the agent did not have to give up on them.
    expect(agent.stderr()).not.toMatch(/never received/);
  });

  it('on bye, kills running tasks and exits 0', async () => {
    const { plane, agent } = await setup();
    const peer = await plane.peer(0);
    peer.welcome();
    const task = assignment(commandSpec('echo $$; exec sleep 100'));
    peer.assign([task]);
    const pid = await pidIn(peer, task.taskId);
    peer.send({ type: 'bye', reason: 'deregistered' });
    expect(await agent.exited).toBe(0);
    expect(processAlive(pid)).toBe(false);
  });

  it('on a second SIGTERM, kills every task group and exits at once', async () => {
    const { plane, agent } = await setup();
    const peer = await plane.peer(0);
    peer.welcome();
    const task = assignment(commandSpec(`echo $$; sh -c 'sleep 100 & sleep 100; wait'`));
    peer.assign([task]);
    const pid = await pidIn(peer, task.taskId);
    agent.child.kill('SIGTERM');
    await eventually(
      () => (agent.stderr().includes('draining') ? true : undefined),
      'the agent to drain',
    );
    agent.child.kill('SIGTERM');
    expect(await agent.exited).toBe(143);
    await eventually(() => (processAlive(pid) ? undefined : true), 'the task to die');
    expect(
      peer.frames.filter((frame) => frame.type === 'complete' || frame.type === 'fail'),
    ).toEqual([]);
  });
});

describe('tm-agent identity', { timeout: 20_000 }, () => {
  it('says hello only once challenged, signed for that nonce', async () => {
    const plane = await FakeControlPlane.start();
    planes.push(plane);
    plane.challenges = false;
    await startAgent(plane);
    const peer = await eventually(() => plane.peers[0], 'the agent to connect');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(peer.frames).toEqual([]);
    peer.challenge();
    await peer.next((frame) => frame.type === 'hello', 'hello');
    expect(helloVerifies(peer)).toBe(true);
    expect(helloVerifies(peer, randomBytes(32).toString('base64url'))).toBe(false);
  });

  it('makes its key file once, with mode 0600, and keeps its key across restarts', async () => {
    const plane = await FakeControlPlane.start();
    planes.push(plane);
    const keyDir = await mkdtemp(join(tmpdir(), 'tm-agent-key-'));
    const keyFile = join(keyDir, 'nested', 'agent-key.pem');
    try {
      const first = await startAgent(plane, [], undefined, keyFile);
      const before = (await plane.peer(0)).frames[0];
      expect(statSync(keyFile).mode & 0o777).toBe(0o600);
      first.child.kill('SIGKILL');
      await first.exited;

      await startAgent(plane, [], first.address, keyFile);
      const again = await plane.peer(1);
      expect(again.frames[0]?.publicKey).toBe(before?.publicKey);
      expect(helloVerifies(again)).toBe(true);
      expect(again.frames[0]?.signature).not.toBe(before?.signature);
    } finally {
      await rm(keyDir, { recursive: true, force: true });
    }
  });

  it('exits 78 with a clear message when its key is refused, and never reconnects', async () => {
    for (const code of ['key_mismatch', 'bad_signature']) {
      const { plane, agent } = await setup();
      const peer = await plane.peer(0);
      peer.send({ type: 'reject', code, message: 'worker w is bound to another agent key' });
      expect(await agent.exited).toBe(78);
      const refusal = agent
        .stderr()
        .split('\n')
        .filter((line) => line.includes('refused this agent key'))
        .map((line) => JSON.parse(line) as Record<string, unknown>);
      expect(refusal).toEqual([
        expect.objectContaining({
          level: 'error',
          code,
          keyFile: agent.keyFile,
          fingerprint: expect.stringMatching(/^SHA256:[A-Za-z0-9+/]{43}$/),
        }),
      ]);
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(plane.peers).toHaveLength(1);
    }
  });

  it('says it runs tasks in bwrap, and exits 78 when the control plane requires isolation', async () => {
    const { plane, agent } = await setup(['--isolation', 'bwrap']);
    const peer = await plane.peer(0);
    expect(peer.frames[0]).toMatchObject({ type: 'hello', isolation: 'bwrap' });
    peer.send({
      type: 'reject',
      code: 'isolation_required',
      message: 'this cluster requires bwrap',
    });
    expect(await agent.exited).toBe(78);
    expect(agent.stderr()).toContain('the control plane requires sandboxed tasks');
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(plane.peers).toHaveLength(1);
  });

  it('keeps reconnecting after other rejections', async () => {
    const { plane, agent } = await setup();
    const first = await plane.peer(0);
    first.send({ type: 'reject', code: 'address_mismatch', message: 'not yours' });
    const second = await plane.peer(1);
    expect(helloVerifies(second)).toBe(true);
    expect(second.frames[0]?.publicKey).toBe(first.frames[0]?.publicKey);
    expect(agent.child.exitCode).toBeNull();
  });

  it('waits connected while pending, logging how to approve it, and takes tasks once approved', async () => {
    const { plane, agent } = await setup();
    const peer = await plane.peer(0);
    peer.send({
      type: 'welcome',
      workerId: WORKER_ID,
      protocolVersion: PROTOCOL_VERSION,
      heartbeatIntervalMs: 10_000,
      pending: true,
    });
    const waiting = await eventually(
      () =>
        agent
          .stderr()
          .split('\n')
          .find((line) => line.includes('waiting for approval')),
      'the agent to log that it waits',
    );
    // The fingerprint of the agent's key file, computed here as the control plane does.
    const raw = Buffer.from(
      String(createPublicKey(readFileSync(agent.keyFile, 'utf8')).export({ format: 'jwk' }).x),
      'base64url',
    );
    const printed = `SHA256:${createHash('sha256').update(raw).digest('base64').replace(/=+$/, '')}`;
    expect(JSON.parse(waiting)).toMatchObject({
      level: 'warn',
      message: `waiting for approval: tm workers approve ${WORKER_ID}`,
      worker: WORKER_ID,
      fingerprint: printed,
    });
    expect(printed).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    expect(agent.stderr()).not.toContain(TOKEN);
    expect(peer.closed).toBe(false);

    peer.send({ type: 'approved' });
    const task = assignment(commandSpec('echo approved'));
    peer.assign([task]);
    await peer.next((frame) => frame.type === 'complete', 'the task to complete');
    expect(agent.stderr()).toMatch(/the admin approved this worker/);
  });
});
