/** One agent's conversation with the Scheduler: hello, heartbeats, progress, output, results. */
import {
  AgentFrame,
  PROTOCOL_VERSION,
  parseFrame,
  type HelloFrame,
  type TaskRef,
} from '../protocol/index.ts';
import type { Core } from './core.ts';
import { commit } from './core.ts';
import { newEffects, wakeAt, type Effects } from './effects.ts';
import type { Attachment } from './sockets.ts';
import { appendLogs } from './logs-store.ts';
import { recordTaskEnds } from './jobs-store.ts';
import {
  completeTasks,
  failTasks,
  liveTasksOf,
  markStarted,
  recordProgress,
} from './task-lifecycle.ts';
import { loseTasks } from './task-losses.ts';
import {
  bindConnection,
  findLiveWorkerByAddress,
  findWorker,
  insertWorker,
  recordHeartbeat,
  stopAccepting,
} from './workers-store.ts';
import { connectionLost, finishDrainIfIdle } from './worker-lifecycle.ts';

/** Close codes the Scheduler uses, so agents can tell why they were dropped. */
export const CloseCode = { replaced: 4000, leaseExpired: 4001, rejected: 4003 } as const;

export function onAgentMessage(core: Core, socket: WebSocket, raw: string | ArrayBuffer): void {
  const parsed = parseFrame(raw, AgentFrame);
  if (!parsed.ok) return sendError(core, socket, parsed.code, parsed.message);
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
    case 'started':
      return core.sql.transaction(() => markStarted(core.sql, workerId, frame.tasks, now));
    case 'progress':
      return core.sql.transaction(() => recordProgress(core.sql, workerId, frame.tasks));
    case 'log': {
      const stored = core.sql.transaction(() =>
        appendLogs(core.sql, workerId, frame, core.config.logLimitBytes, now),
      );
      if (stored === null)
        return sendError(
          core,
          socket,
          'not_owner',
          `task ${frame.taskId} attempt ${frame.attempt} is not yours`,
        );
      return core.watchers.publish(stored);
    }
    case 'complete':
    case 'fail':
      return settle(core, workerId, attachment.connId, (effects) =>
        frame.type === 'complete'
          ? completeTasks(core.sql, effects, workerId, frame.tasks, now)
          : failTasks(core.sql, effects, workerId, frame.tasks, now),
      );
    case 'bye':
      return onClose(core, socket, 'agent said bye');
  }
}

/** Applies results from one worker in a transaction, settles jobs and drains, then commits. */
function settle(
  core: Core,
  workerId: string,
  connId: string,
  apply: (effects: Effects) => number,
): void {
  const effects = newEffects();
  const now = core.now();
  core.sql.transaction(() => {
    recordHeartbeat(core.sql, workerId, connId, now);
    apply(effects);
    recordTaskEnds(core.sql, effects, now);
    finishDrainIfIdle(core.sql, effects, workerId, now);
  });
  commit(core, effects);
}

function onHello(core: Core, socket: WebSocket, attachment: Attachment, hello: HelloFrame): void {
  if (attachment.workerId)
    return sendError(core, socket, 'duplicate_hello', 'this connection already said hello');
  if (hello.protocolVersion !== PROTOCOL_VERSION) {
    return reject(
      core,
      socket,
      'protocol_version',
      `control plane speaks protocol ${PROTOCOL_VERSION}, agent ${hello.protocolVersion}`,
    );
  }
  const now = core.now();
  const effects = newEffects();
  const bound = core.sql.transaction(() => {
    const worker = resolveWorker(core, attachment, hello, now);
    if ('error' in worker) return worker;
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
      draining: hello.draining ?? false,
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
  if ('error' in bound) return reject(core, socket, bound.error, bound.message);
  core.sockets.bind(socket, bound.id);
  core.sockets.send(socket, {
    type: 'welcome',
    workerId: bound.id,
    protocolVersion: PROTOCOL_VERSION,
    heartbeatIntervalMs: core.config.heartbeatIntervalMs,
  });
  if (findWorker(core.sql, bound.id)?.state === 'draining')
    core.sockets.send(socket, { type: 'drain' });
  effects.dispatch = true;
  commit(core, effects);
}

/** Finds the worker this agent speaks for, or registers it when it holds the cluster token. */
function resolveWorker(
  core: Core,
  attachment: Attachment,
  hello: HelloFrame,
  now: number,
): { id: string } | { error: string; message: string } {
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
  const owned = liveTasksOf(core.sql, workerId);
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
      connectionLost(core.sql, effects, {
        workerId: worker.id,
        connId: worker.conn_id,
        reason: 'agent lease expired',
        now: core.now(),
      });
      effects.closes.push({
        connId: worker.conn_id,
        code: CloseCode.leaseExpired,
        reason: 'lease expired',
      });
    }
  });
  commit(core, effects);
}

function sendError(core: Core, socket: WebSocket, code: string, message: string): void {
  core.sockets.send(socket, { type: 'error', code, message });
}

function reject(core: Core, socket: WebSocket, code: string, message: string): void {
  core.sockets.send(socket, { type: 'reject', code, message });
  core.sockets.close(core.sockets.attachment(socket).connId, CloseCode.rejected, code);
}
