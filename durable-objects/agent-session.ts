/** One agent's conversation with the Scheduler: hello, heartbeats, progress, output, results. */
import { reachBarrier } from './barriers.ts';
import {
  AgentFrame,
  PROTOCOL_VERSION,
  claimedHelloVersion,
  parseFrame,
  type HelloFrame,
  type TaskRef,
} from '../protocol/index.ts';
import type { Core } from './core.ts';
import { commit } from './core.ts';
import { newEffects, wakeAt, type Effects } from './effects.ts';
import type { Attachment } from './sockets.ts';
import type { WorkerRow } from './db/rows.ts';
import { appendLogs } from './task-logs.ts';
import { recordTaskEnds } from './job-settlement.ts';
import { liveAttemptsOf } from './db/attempts.ts';
import { completeTasks, failTasks, markStarted, recordProgress } from './task-lifecycle.ts';
import { loseTasks } from './task-losses.ts';
import {
  bindConnection,
  findLiveWorkerByAddress,
  findWorker,
  insertWorker,
  recordHeartbeat,
  stopAccepting,
} from './db/workers.ts';
import { connectionLost, finishDrainIfIdle } from './worker-lifecycle.ts';
import { admitKey, keyFingerprint, verifyHello } from './agent-keys.ts';
import { describeClaims, foreignClaims } from './task-claims.ts';
import { splitReports } from './reported-results.ts';
import { priceResults } from './result-budget.ts';
import { countOne, LEASE_EXPIRIES } from './metric-tally.ts';

/** Close codes the Scheduler uses, so agents can tell why they were dropped. */
export const CloseCode = {
  replaced: 4000,
  leaseExpired: 4001,
  rejected: 4003,
  helloTimeout: 4008,
  rateLimited: 4029,
} as const;

export function onAgentMessage(
  core: Core,
  socket: WebSocket,
  raw: string | ArrayBuffer,
): void | Promise<void> {
  // Counted before parsing: a flood of frames is refused whatever they hold.
  if (!admitFrame(core, socket)) return;
  const parsed = parseFrame(raw, AgentFrame);
  if (!parsed.ok) {
    // An agent of another protocol version sends a hello of another shape: say so, and why.
    const version = claimedHelloVersion(raw);
    if (
      version !== null &&
      version !== PROTOCOL_VERSION &&
      !core.sockets.attachment(socket).workerId
    )
      return rejectVersion(core, socket, version);
    return sendError(core, socket, parsed.code, parsed.message);
  }
  const frame = parsed.frame;
  const attachment = core.sockets.attachment(socket);
  if (frame.type === 'hello') return onHello(core, socket, attachment, frame);
  const workerId = attachment.workerId;
  if (!workerId)
    return sendError(core, socket, 'hello_required', `send hello before ${frame.type}`);
  if (findWorker(core.sql, workerId)?.conn_id !== attachment.connId) {
    sendError(core, socket, 'stale_connection', 'this connection no longer speaks for its worker');
    return core.sockets.close(attachment.connId, CloseCode.replaced, 'stale connection');
  }
  const now = core.now();
  switch (frame.type) {
    case 'heartbeat':
      return recordHeartbeat(core.sql, workerId, attachment.connId, now);
    case 'draining':
      return stopAccepting(core.sql, workerId, attachment.connId);
    case 'started': {
      const ignored = core.sql.transaction(() => markStarted(core.sql, workerId, frame.tasks, now));
      refuseForeign(core, socket, workerId, frame.type, ignored);
      return;
    }
    case 'progress': {
      const ignored = core.sql.transaction(() => recordProgress(core.sql, workerId, frame.tasks));
      refuseForeign(core, socket, workerId, frame.type, ignored);
      return;
    }
    case 'log': {
      const stored = core.sql.transaction(() =>
        appendLogs(core.sql, workerId, frame, core.config.logLimitBytes, now),
      );
      if (stored !== null) return core.watchers.publish(stored);
      const ref = { taskId: frame.taskId, attempt: frame.attempt };
      if (refuseForeign(core, socket, workerId, frame.type, [ref])) return;
      return sendError(core, socket, 'not_owner', notYours([ref]));
    }
    case 'complete': {
      // Results whose keys or inline outputs are not what the attempt was given fail it instead.
      // Results past their job's budget fail too (result-budget.ts).
      const { accepted, refused: invalid } = splitReports(core.sql, workerId, frame.tasks);
      const { stored, tooLarge } = priceResults(core.sql, workerId, accepted);
      const refused = [...invalid, ...tooLarge];
      const ignored = settle(core, workerId, attachment.connId, (effects) => [
        ...completeTasks(core.sql, effects, workerId, stored, now),
        ...failTasks(core.sql, effects, workerId, refused, now),
      ]);
      for (const item of refused) {
        core.log('agent-session').warn(`refused a result: ${item.error.message}`, {
          task: item.taskId,
          worker: workerId,
        });
        sendError(core, socket, 'result_refused', `task ${item.taskId}: ${item.error.message}`);
      }
      refuseForeign(core, socket, workerId, frame.type, ignored);
      return;
    }
    case 'fail': {
      const ignored = settle(core, workerId, attachment.connId, (effects) =>
        failTasks(core.sql, effects, workerId, frame.tasks, now),
      );
      refuseForeign(core, socket, workerId, frame.type, ignored);
      return;
    }
    case 'barrier': {
      const known = reachBarrier(core, workerId, frame);
      if (!known) refuseForeign(core, socket, workerId, frame.type, [frame]);
      return;
    }
    case 'bye':
      return onClose(core, socket, 'agent said bye');
  }
}

/**
 * Takes the frame's token from its connection's bucket. Past the rate, the agent hears why in an
 * error frame, its connection is closed (4029) and dropped at once, and the operator gets one line.
 */
function admitFrame(core: Core, socket: WebSocket): boolean {
  if (socket.readyState !== WebSocket.READY_STATE_OPEN) return false;
  const attachment = core.sockets.attachment(socket);
  const rate = core.config.frameRate;
  if (core.sockets.admitFrame(attachment.connId, rate, core.now())) return true;
  const who = attachment.workerId ? `worker ${attachment.workerId}` : 'a connection before hello';
  core
    .log('agent-session')
    .warn(
      `closed ${who} (connection ${attachment.connId}): more than ${rate.perSecond} frames a second (burst ${rate.burst})`,
      { worker: attachment.workerId ?? undefined },
    );
  sendError(
    core,
    socket,
    'rate_limited',
    `more than ${rate.perSecond} frames a second (burst ${rate.burst}): closing this connection`,
  );
  core.sockets.close(attachment.connId, CloseCode.rateLimited, 'frame rate limit');
  onClose(core, socket, 'agent connection closed: frame rate limit');
  return false;
}

/** Closes sockets that have not said hello within the timeout of being accepted (run by the alarm). */
export function closeSocketsWithoutHello(core: Core): void {
  const timeoutMs = core.config.helloTimeoutMs;
  for (const socket of core.sockets.withoutHello(timeoutMs, core.now())) {
    const { connId } = core.sockets.attachment(socket);
    sendError(core, socket, 'hello_timeout', `no hello within ${timeoutMs / 1000} s of connecting`);
    core.sockets.close(connId, CloseCode.helloTimeout, 'no hello');
    core.sockets.forget(socket);
  }
}

/**
 * Applies results from one worker in a transaction, settles jobs and drains, then commits;
 * returns the reports it ignored.
 */
function settle(
  core: Core,
  workerId: string,
  connId: string,
  apply: (effects: Effects) => TaskRef[],
): TaskRef[] {
  const effects = newEffects();
  const now = core.now();
  const ignored = core.sql.transaction(() => {
    recordHeartbeat(core.sql, workerId, connId, now);
    const ignored = apply(effects);
    recordTaskEnds(core.sql, effects, now);
    finishDrainIfIdle(core.sql, effects, workerId, now);
    return ignored;
  });
  commit(core, effects);
  return ignored;
}

/**
 * Of the reports a frame named and the Scheduler ignored, those on other workers' attempts are
 * a claim on work that is not this agent's: it hears so in an error frame, and the operator in
 * one log line. Returns whether there were any.
 */
function refuseForeign(
  core: Core,
  socket: WebSocket,
  workerId: string,
  frameType: string,
  ignored: readonly TaskRef[],
): boolean {
  if (ignored.length === 0) return false;
  const foreign = foreignClaims(core.sql, workerId, ignored);
  // Stale or unknown reports are dropped without a reply, but cost as much as a refused frame.
  if (foreign.length === 0) core.sockets.chargeRefused(core.sockets.attachment(socket).connId);
  if (foreign.length === 0) return false;
  core.log('agent-session').warn(`refused: ${describeClaims(frameType, workerId, foreign)}`, {
    worker: workerId,
  });
  sendError(core, socket, 'not_owner', notYours(foreign));
  return true;
}

function notYours(refs: readonly TaskRef[]): string {
  const [first] = refs;
  const more = refs.length > 1 ? ` (and ${refs.length - 1} more)` : '';
  return `task ${first?.taskId} attempt ${first?.attempt} is not yours${more}`;
}

/**
 * Admits an agent: its protocol version, its signature over this connection's challenge, then
 * the worker it speaks for and that worker's key; binds the connection and says welcome, with
 * `pending` while the admin has not approved the worker (it then gets no tasks).
 */
async function onHello(
  core: Core,
  socket: WebSocket,
  attachment: Attachment,
  hello: HelloFrame,
): Promise<void> {
  if (attachment.workerId)
    return sendError(core, socket, 'duplicate_hello', 'this connection already said hello');
  if (hello.protocolVersion !== PROTOCOL_VERSION)
    return rejectVersion(core, socket, hello.protocolVersion);
  // Taken before the signature is checked: one hello per challenge, even while one is checked.
  const nonce = core.sockets.takeNonce(socket);
  if (nonce === null)
    return sendError(core, socket, 'duplicate_hello', 'this connection already said hello');
  if (!(await verifyHello(nonce, hello))) {
    const known = findLiveWorkerByAddress(core.sql, hello.address);
    return refuseAgent(core, socket, {
      code: 'bad_signature',
      message: "the hello's signature does not verify for this connection's challenge",
      workerId: known?.id ?? null,
      address: hello.address,
    });
  }
  const fingerprint = await keyFingerprint(hello.publicKey);
  // The socket may have closed while the signature was checked.
  if (socket.readyState !== WebSocket.READY_STATE_OPEN) return;
  const isolation = hello.isolation ?? 'none';
  if (core.config.requireIsolation !== null && isolation !== core.config.requireIsolation) {
    const known = findLiveWorkerByAddress(core.sql, hello.address);
    return refuseAgent(core, socket, {
      code: 'isolation_required',
      message: `this cluster runs command and pipeline tasks only in ${core.config.requireIsolation}; this agent has isolation ${isolation} (install bubblewrap, start it with --isolation bwrap)`,
      workerId: known?.id ?? null,
      address: hello.address,
    });
  }
  const now = core.now();
  const effects = newEffects();
  const bound = core.sql.transaction(() => {
    const worker = resolveWorker(core, attachment, hello, now);
    if ('error' in worker) return worker;
    if (!admitKey(core.sql, worker, { publicKey: hello.publicKey, fingerprint })) {
      return {
        error: 'key_mismatch',
        message:
          worker.public_key === null
            ? `worker ${worker.id} was registered for another agent key (${worker.expected_fingerprint}); this agent's is ${fingerprint}`
            : `worker ${worker.id} is bound to another agent key; deregister it and register it again to re-key`,
        workerId: worker.id,
      };
    }
    const previous = findWorker(core.sql, worker.id)?.conn_id ?? null;
    if (previous)
      effects.closes.push({
        connId: previous,
        code: CloseCode.replaced,
        reason: 'replaced by a new connection',
      });
    bindConnection(core.sql, worker.id, {
      connId: attachment.connId,
      agentSlots: hello.slots,
      acceptsCommands: hello.acceptsCommands,
      executors: hello.executors ?? [],
      isolation,
      draining: hello.draining ?? false,
      dataPort: hello.dataPort ?? null,
      now,
    });
    const stale = reconcile(core, effects, worker.id, hello.running);
    recordTaskEnds(core.sql, effects, now);
    // The lease of this connection starts now: make sure the alarm will look at it.
    wakeAt(effects, now + core.config.leaseMs);
    if (stale.length > 0)
      effects.outbox.push({
        connId: attachment.connId,
        frame: { type: 'cancel', tasks: stale, reason: 'no longer assigned to this worker' },
      });
    return worker;
  });
  if ('error' in bound) {
    if (bound.error !== 'key_mismatch') return reject(core, socket, bound.error, bound.message);
    return refuseAgent(core, socket, {
      code: bound.error,
      message: bound.message,
      workerId: bound.workerId ?? null,
      address: hello.address,
    });
  }
  core.sockets.bind(socket, bound.id);
  const admitted = findWorker(core.sql, bound.id);
  const pending = admitted?.approved_at === null;
  core.sockets.send(socket, {
    type: 'welcome',
    workerId: bound.id,
    protocolVersion: PROTOCOL_VERSION,
    heartbeatIntervalMs: core.config.heartbeatIntervalMs,
    ...(pending ? { pending: true } : {}),
  });
  // A key nobody approved: the agent waits, connected and given nothing, and the admin hears.
  if (pending)
    core
      .log('agent-session')
      .warn(
        `worker ${bound.id} at ${hello.address} waits for approval (agent key ${fingerprint}): tm workers approve ${bound.id}`,
        { worker: bound.id },
      );
  if (admitted?.state === 'draining') core.sockets.send(socket, { type: 'drain' });
  effects.dispatch = true;
  commit(core, effects);
}

/** Finds the worker this agent speaks for, or registers it when it holds the cluster token. */
function resolveWorker(
  core: Core,
  attachment: Attachment,
  hello: HelloFrame,
  now: number,
): WorkerRow | { error: string; message: string; workerId?: string } {
  const existing = findLiveWorkerByAddress(core.sql, hello.address);
  if (attachment.auth.kind === 'worker') {
    if (existing?.id !== attachment.auth.workerId) {
      return {
        error: 'address_mismatch',
        message: `this join token belongs to another worker than ${hello.address}`,
      };
    }
    return existing;
  }
  if (existing) return existing;
  return insertWorker(core.sql, {
    id: crypto.randomUUID(),
    request: { address: hello.address },
    tokenHash: null,
    now,
  });
}

/**
 * Squares what the agent holds with what the Scheduler assigned it: tasks it no longer holds go
 * back to the queue; tasks it holds that are no longer its own are returned for cancelling.
 */
function reconcile(
  core: Core,
  effects: Effects,
  workerId: string,
  held: readonly TaskRef[],
): TaskRef[] {
  const key = (ref: TaskRef) => `${ref.taskId}#${ref.attempt}`;
  const owned = liveAttemptsOf(core.sql, workerId);
  const heldKeys = new Set(held.map(key));
  const ownedKeys = new Set(owned.map(key));
  loseTasks(
    core.sql,
    effects,
    workerId,
    owned.filter((ref) => !heldKeys.has(key(ref))),
    { reason: 'its agent no longer held the task', counted: true, now: core.now() },
  );
  return held.filter((ref) => !ownedKeys.has(key(ref)));
}

/** The socket closed (or said bye): if it still spoke for its worker, the worker's tasks are requeued. */
export function onClose(core: Core, socket: WebSocket, reason: string): void {
  const attachment = core.sockets.attachment(socket);
  core.sockets.forget(socket);
  if (!attachment.workerId) return;
  const effects = newEffects();
  const workerId = attachment.workerId;
  core.sql.transaction(() =>
    connectionLost(core.sql, effects, {
      workerId,
      connId: attachment.connId,
      reason,
      now: core.now(),
    }),
  );
  commit(core, effects);
}

/** Drops agents whose heartbeats stopped for longer than the lease. */
export function expireLeases(
  core: Core,
  lapsed: readonly { id: string; conn_id: string | null }[],
): void {
  const effects = newEffects();
  core.sql.transaction(() => {
    for (const worker of lapsed) {
      if (!worker.conn_id) continue;
      const lost = connectionLost(core.sql, effects, {
        workerId: worker.id,
        connId: worker.conn_id,
        reason: 'agent lease expired',
        now: core.now(),
      });
      if (lost) countOne(core.sql, LEASE_EXPIRIES, { lease: 'agent' });
      effects.closes.push({
        connId: worker.conn_id,
        code: CloseCode.leaseExpired,
        reason: 'lease expired',
      });
    }
  });
  commit(core, effects);
}

/** Answers a refused frame (which costs its connection more of its frame budget: frame-rate.ts). */
function sendError(core: Core, socket: WebSocket, code: string, message: string): void {
  core.sockets.chargeRefused(core.sockets.attachment(socket).connId);
  core.sockets.send(socket, { type: 'error', code, message });
}

function rejectVersion(core: Core, socket: WebSocket, version: number): void {
  reject(
    core,
    socket,
    'protocol_version',
    `control plane speaks protocol ${PROTOCOL_VERSION}, agent ${version}: upgrade the agent`,
  );
}

/** Rejects an agent that failed to prove who it is, with one log line for the operator. */
function refuseAgent(
  core: Core,
  socket: WebSocket,
  refusal: { code: string; message: string; workerId: string | null; address: string },
): void {
  const who = `${refusal.workerId ? `worker ${refusal.workerId}` : 'unregistered worker'} at ${refusal.address}`;
  core.log('agent-session').warn(`rejected an agent for ${who}: ${refusal.code}`, {
    worker: refusal.workerId ?? undefined,
  });
  reject(core, socket, refusal.code, refusal.message);
}

function reject(core: Core, socket: WebSocket, code: string, message: string): void {
  core.sockets.send(socket, { type: 'reject', code, message });
  core.sockets.close(core.sockets.attachment(socket).connId, CloseCode.rejected, code);
}
