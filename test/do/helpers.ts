/** Test helpers for the Scheduler inside workerd: HTTP calls through the Worker and fake agents. */
import { SELF, env, runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { expect } from 'vitest';
import { API_ROUTES, type ApiRoute } from '../../protocol/openapi.ts';
import type { Env } from '../../src/env.ts';
import {
  ErrorBody,
  PROTOCOL_VERSION,
  helloMessage,
  toBase64Url,
  type Assignment,
  type ServerFrame,
  type TaskView,
  type JobView,
  type WorkerView,
} from '../../protocol/index.ts';

export const JOIN_TOKEN = 'test-join-token';
export const ADMIN_TOKEN = 'test-admin-token';
/** Headers that carry the admin token, for tests that call SELF.fetch themselves. */
export const ADMIN = { authorization: `Bearer ${ADMIN_TOKEN}` } as const;
const BASE = 'http://scheduler.test';

/** A fresh `host:port` so tests never share a worker record. */
export function uniqueAddress(): string {
  return `localhost:${1024 + Math.floor(Math.random() * 64000)}`;
}

/** Calls the API as the admin, or with `token` (null: no Authorization header at all). */
export async function api<T = unknown>(
  method: string,
  path: string,
  body?: unknown,
  token: string | null = ADMIN_TOKEN,
): Promise<{ status: number; body: T; headers: Headers }> {
  const headers: Record<string, string> = {};
  if (token !== null) headers.authorization = `Bearer ${token}`;
  const init: RequestInit = { method, headers };
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    headers['content-type'] = 'application/json';
  }
  const response = await SELF.fetch(`${BASE}${path}`, init);
  const text = await response.text();
  return {
    status: response.status,
    body: (text ? JSON.parse(text) : null) as T,
    headers: response.headers,
  };
}

export const getJob = async (id: string) => (await api<JobView>('GET', `/v1/jobs/${id}`)).body;
export const getTask = async (id: string) => (await api<TaskView>('GET', `/v1/tasks/${id}`)).body;
export const getWorker = async (id: string) =>
  (await api<WorkerView>('GET', `/v1/workers/${id}`)).body;

export async function submitJob(request: Record<string, unknown>): Promise<JobView> {
  const { status, body } = await api<JobView>('POST', '/v1/jobs', request);
  if (status !== 202) throw new Error(`submit failed: ${status} ${JSON.stringify(body)}`);
  return body;
}

export async function registerWorker(address = uniqueAddress()) {
  const { status, body } = await api<{ worker: WorkerView; created: boolean; joinToken?: string }>(
    'POST',
    '/v1/workers',
    { address },
  );
  if (status !== 201 || !body.joinToken)
    throw new Error(`register failed: ${status} ${JSON.stringify(body)}`);
  return { worker: body.worker, joinToken: body.joinToken, address };
}

/** Polls `probe` until it returns a truthy value; fails after `timeoutMs`. */
export async function waitFor<T>(
  probe: () => Promise<T> | T,
  what = 'condition',
  timeoutMs = 3000,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    last = await probe();
    if (last) return last as NonNullable<T>;
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what} (last: ${JSON.stringify(last)})`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

type Frame = ServerFrame | { type: 'pong' };
type Predicate = (frame: Frame) => boolean;

/** An agent's Ed25519 key pair, made with WebCrypto inside workerd as a real agent makes one. */
export interface AgentKeys {
  /** Raw 32-byte public key, base64url, as `hello` carries it. */
  publicKey: string;
  privateKey: CryptoKey;
}

export async function newAgentKeys(): Promise<AgentKeys> {
  const pair = (await crypto.subtle.generateKey({ name: 'Ed25519' }, true, [
    'sign',
    'verify',
  ])) as CryptoKeyPair;
  const raw = (await crypto.subtle.exportKey('raw', pair.publicKey)) as ArrayBuffer;
  return { publicKey: toBase64Url(new Uint8Array(raw)), privateKey: pair.privateKey };
}

const keysByAddress = new Map<string, Promise<AgentKeys>>();

/** The key pair of the agent at `address`: one per address, as an agent keeps its key file. */
export function keysOf(address: string): Promise<AgentKeys> {
  let keys = keysByAddress.get(address);
  if (!keys) {
    keys = newAgentKeys();
    keysByAddress.set(address, keys);
  }
  return keys;
}

/** The signature a hello carries for `nonce` and `address`, base64url. */
export async function signHello(keys: AgentKeys, nonce: string, address: string): Promise<string> {
  const signature = await crypto.subtle.sign(
    { name: 'Ed25519' },
    keys.privateKey,
    new TextEncoder().encode(helloMessage(nonce, address)),
  );
  return toBase64Url(new Uint8Array(signature));
}

/** A hello of this protocol version for `address`, signed by `keys` for the connection's `nonce`. */
export async function signedHello(address: string, nonce: string, keys: AgentKeys) {
  return {
    type: 'hello',
    protocolVersion: PROTOCOL_VERSION,
    address,
    slots: 4,
    acceptsCommands: true,
    running: [],
    publicKey: keys.publicKey,
    signature: await signHello(keys, nonce, address),
  };
}

/** A fake agent on a real WebSocket to the Scheduler. */
export class TestAgent {
  /** Frames received and not yet taken by nextFrame. */
  readonly inbox: Frame[] = [];
  /** Every frame ever received, in order. */
  readonly received: Frame[] = [];
  closeEvent: { code: number; reason: string } | null = null;
  private wake: (() => void) | null = null;
  private challenge: string | null = null;

  constructor(readonly ws: WebSocket) {
    ws.addEventListener('message', (event) => {
      const data = typeof event.data === 'string' ? event.data : '';
      const frame = (data === 'pong' ? { type: 'pong' } : JSON.parse(data)) as Frame;
      this.inbox.push(frame);
      this.received.push(frame);
      this.wake?.();
    });
    ws.addEventListener('close', (event) => {
      this.closeEvent = { code: event.code, reason: event.reason };
      this.wake?.();
    });
  }

  send(frame: unknown): void {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** The nonce of the Scheduler's challenge on this socket, waiting for it if need be. */
  async nonce(): Promise<string> {
    if (this.challenge === null) {
      const frame = await this.nextFrame('challenge');
      this.challenge = frame.type === 'challenge' ? frame.nonce : null;
    }
    if (this.challenge === null) throw new Error('unreachable');
    return this.challenge;
  }

  /**
   * Answers the challenge with a hello signed by `keys` (default: the address's own key pair);
   * `over` replaces any field, the key and signature included.
   */
  async hello(
    address: string,
    over: Record<string, unknown> = {},
    keys?: AgentKeys,
  ): Promise<void> {
    const nonce = await this.nonce();
    this.send({ ...(await signedHello(address, nonce, keys ?? (await keysOf(address)))), ...over });
  }

  /** Takes the first received frame matching `predicate` (by type or function), waiting for it. */
  async nextFrame<K extends Frame['type']>(
    match: K | Predicate,
    timeoutMs = 3000,
  ): Promise<Extract<Frame, { type: K }>> {
    const predicate: Predicate =
      typeof match === 'function' ? match : (frame) => frame.type === match;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = this.inbox.findIndex(predicate);
      if (index >= 0) return this.inbox.splice(index, 1)[0] as Extract<Frame, { type: K }>;
      const left = deadline - Date.now();
      if (left <= 0 || this.closeEvent) {
        throw new Error(
          `no matching frame (${String(match)}); inbox: ${JSON.stringify(this.inbox)}; closed: ${JSON.stringify(this.closeEvent)}`,
        );
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = null;
    }
  }

  /** Says hello and returns the welcome frame. */
  async join(address: string, over: Record<string, unknown> = {}, keys?: AgentKeys) {
    await this.hello(address, over, keys);
    return this.nextFrame('welcome');
  }

  /**
   * A round trip through the Scheduler: everything it sent before handling this frame has arrived
   * once the reply does (frames on one socket are ordered).
   */
  async sync(): Promise<void> {
    const marker = `not json ${crypto.randomUUID()}`;
    this.send(marker);
    await this.nextFrame((frame) => frame.type === 'error' && frame.code === 'malformed_frame');
  }

  /** Waits for the Scheduler to close this socket. */
  async closed(timeoutMs = 3000): Promise<{ code: number; reason: string }> {
    return waitFor(() => this.closeEvent, 'socket close', timeoutMs);
  }

  close(): void {
    try {
      this.ws.close(1000, 'test done');
    } catch {
      // already closed
    }
  }
}

const open = new Set<TestAgent>();

export async function connectRaw(token: string | null = JOIN_TOKEN): Promise<Response> {
  const headers: Record<string, string> = { Upgrade: 'websocket' };
  if (token !== null) headers.Authorization = `Bearer ${token}`;
  return SELF.fetch(`${BASE}/v1/agent/connect`, { headers });
}

/** Opens an agent WebSocket through the Worker. */
export async function connect(token: string = JOIN_TOKEN): Promise<TestAgent> {
  const response = await connectRaw(token);
  const ws = response.webSocket;
  if (response.status !== 101 || !ws)
    throw new Error(`connect failed: ${response.status} ${await response.text()}`);
  ws.accept();
  const agent = new TestAgent(ws);
  open.add(agent);
  return agent;
}

/**
 * Connects and joins as `address`, pre-registered with its key's fingerprint (as the local stack
 * does) so the worker is approved from its first hello; returns the agent and its worker id.
 */
export async function joinAgent(
  address = uniqueAddress(),
  over: Record<string, unknown> = {},
  token = JOIN_TOKEN,
  keys?: AgentKeys,
) {
  await preRegister(address, keys ?? (await keysOf(address)));
  return joinPending(address, over, token, keys);
}

/** Connects and joins as `address` without registering it: a new key waits as `pending`. */
export async function joinPending(
  address = uniqueAddress(),
  over: Record<string, unknown> = {},
  token = JOIN_TOKEN,
  keys?: AgentKeys,
) {
  const agent = await connect(token);
  const welcome = await agent.join(address, over, keys);
  return { agent, workerId: welcome.workerId, address, pending: welcome.pending === true };
}

/** `SHA256:…` of a raw key, as the Scheduler shows it. */
export async function fingerprintOf(publicKey: string): Promise<string> {
  const raw = Uint8Array.from(atob(publicKey.replace(/-/g, '+').replace(/_/g, '/')), (c) =>
    c.charCodeAt(0),
  );
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', raw));
  return `SHA256:${btoa(String.fromCharCode(...digest)).replace(/=+$/, '')}`;
}

/** Registers `address` (or updates its record) with the fingerprint of `keys`: approved for them. */
export async function preRegister(address: string, keys: AgentKeys): Promise<void> {
  const { status, body } = await api('POST', '/v1/workers', {
    address,
    fingerprint: await fingerprintOf(keys.publicKey),
  });
  if (status !== 200 && status !== 201)
    throw new Error(`pre-registering ${address} failed: ${status} ${JSON.stringify(body)}`);
}

/**
 * Closes every agent a test opened and cancels unfinished jobs, so the next test starts with no
 * connected workers and an empty queue (storage is shared between tests).
 */
export async function cleanUp(): Promise<void> {
  for (const agent of open) agent.close();
  open.clear();
  for (const state of ['queued', 'running'] as const) {
    const { body } = await api<{ jobs: JobView[] }>('GET', `/v1/jobs?state=${state}&limit=1000`);
    for (const job of body.jobs) await api('POST', `/v1/jobs/${job.id}/cancel`);
  }
  await waitFor(
    async () =>
      (await api<{ connectedWorkers: number }>('GET', '/v1/health')).body.connectedWorkers === 0,
    'agents to disconnect',
  );
}

const { SCHEDULER } = env as unknown as Env;
/** The cluster's Scheduler, for alarms and direct queries. */
export const stub = () => SCHEDULER.get(SCHEDULER.idFromName('default'));

/**
 * Runs the Scheduler's alarm now, as if it came due. The alarm may also come due by itself at any
 * moment: while its own run is under way none is stored, and runDurableObjectAlarm finds nothing
 * to run, so this tries again until the Scheduler has re-armed it (and fails if it never does).
 */
export const runAlarmNow = () => waitFor(() => runDurableObjectAlarm(stub()), 'an alarm to run');

/** When the Scheduler's alarm is set for; null while none is, or while an alarm runs and has not set the next. */
export const alarmAt = () => runInDurableObject(stub(), (_, state) => state.storage.getAlarm());

/** Runs one query inside the Scheduler and returns its rows. */
export const query = <T = Record<string, unknown>>(
  sql: string,
  ...values: (string | number | null)[]
) =>
  runInDurableObject(stub(), (_, state) => state.storage.sql.exec(sql, ...values).toArray() as T[]);

/** Waits for the `assign` frame that carries a task of `jobId`, and returns that task. */
export async function assignmentOf(agent: TestAgent, jobId: string): Promise<Assignment> {
  const frame = await agent.nextFrame(
    (f) => f.type === 'assign' && f.tasks.some((t) => t.jobId === jobId),
  );
  const task = frame.type === 'assign' ? frame.tasks.find((t) => t.jobId === jobId) : undefined;
  if (!task) throw new Error('unreachable');
  return task;
}

export const complete = (
  agent: TestAgent,
  task: { taskId: string; attempt: number },
  result?: unknown,
) =>
  agent.send({
    type: 'complete',
    tasks: [{ taskId: task.taskId, attempt: task.attempt, exitCode: 0, result }],
  });

export const sendLog = (
  agent: TestAgent,
  task: { taskId: string; attempt: number },
  chunks: { stream: 'stdout' | 'stderr'; data: string }[],
) => agent.send({ type: 'log', taskId: task.taskId, attempt: task.attempt, chunks });

export const fail = (
  agent: TestAgent,
  task: { taskId: string; attempt: number },
  message: string,
) =>
  agent.send({
    type: 'fail',
    tasks: [
      { taskId: task.taskId, attempt: task.attempt, exitCode: 1, error: { type: 'exit', message } },
    ],
  });

/**
 * Checks a reply against the route's schema for its status in the OpenAPI document (by way of the
 * zod schema it was generated from): it parses, and parsing drops nothing.
 */
export function conforms(method: string, path: string, reply: { status: number; body: unknown }) {
  const route = API_ROUTES.find((r) => r.method === method.toLowerCase() && r.path === path);
  if (!route) throw new Error(`${method} ${path} is not in the route table`);
  const status = reply.status as keyof ApiRoute['errors'];
  const schema =
    route.replies[status]?.content?.['application/json'] ??
    (route.errors[status] === undefined ? undefined : ErrorBody);
  if (!schema) throw new Error(`${method} ${path}: status ${reply.status} is not documented`);
  const parsed = schema.safeParse(reply.body);
  expect(parsed.error, `${method} ${path} ${reply.status}`).toBeUndefined();
  expect(parsed.data).toEqual(reply.body);
}
