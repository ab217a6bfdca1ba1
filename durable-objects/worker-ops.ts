/** Worker operations behind the HTTP API: register, approve, read, list, deregister (drain or force). */
import type {
  RegisterWorkerRequest,
  RegisteredWorker,
  WorkerState,
  WorkerView,
} from '../protocol/index.ts';
import type { Core } from './core.ts';
import { commit } from './core.ts';
import { newEffects, tellWorker } from './effects.ts';
import { conflict, notFound } from './failure.ts';
import { newToken } from './tokens.ts';
import { hashToken } from '../protocol/index.ts';
import { keyFingerprint } from './agent-keys.ts';
import {
  approveWorker as approve,
  expectFingerprint,
  findLiveWorkerByAddress,
  findWorker,
  insertWorker,
  setWorkerState,
  setLabels,
  setSlots,
} from './db/workers.ts';
import { listWorkerViews, workerView } from './worker-view.ts';
import { finishDrainIfIdle, retire } from './worker-lifecycle.ts';

/**
 * Registers an address; registering a live address again returns the same worker (created:
 * false). With a fingerprint the worker is approved for that key only.
 */
export async function registerWorker(
  core: Core,
  request: RegisterWorkerRequest,
): Promise<RegisteredWorker> {
  const existing = findLiveWorkerByAddress(core.sql, request.address);
  if (existing) return { worker: await updated(core, existing.id, request), created: false };
  const joinToken = newToken('tmj_');
  const tokenHash = await hashToken(joinToken);
  // Another registration of the same address may have landed while the hash was computed.
  const raced = findLiveWorkerByAddress(core.sql, request.address);
  if (raced) return { worker: await updated(core, raced.id, request), created: false };
  const row = insertWorker(core.sql, {
    id: crypto.randomUUID(),
    request,
    tokenHash,
    now: core.now(),
  });
  return { worker: await workerView(core.sql, row, core.now()), created: true, joinToken };
}

async function updated(
  core: Core,
  id: string,
  request: RegisterWorkerRequest,
): Promise<WorkerView> {
  if (request.fingerprint) await preRegister(core, id, request.fingerprint);
  if (request.labels) setLabels(core.sql, id, request.labels);
  if (request.slots) setSlots(core.sql, id, request.slots);
  return getWorker(core, id);
}

/**
 * The fingerprint given for a registered worker: its key before an agent binds one; once one is
 * bound, the same key approves it, another is a conflict (re-keying is deregister and register).
 */
async function preRegister(core: Core, id: string, fingerprint: string): Promise<void> {
  const row = findWorker(core.sql, id);
  if (!row) throw notFound('worker', id);
  if (row.public_key === null && expectFingerprint(core.sql, id, fingerprint, core.now())) return;
  const bound = await keyFingerprint(findWorker(core.sql, id)?.public_key ?? null);
  if (bound !== fingerprint)
    throw conflict(
      `worker ${id} is bound to another agent key (${bound}); deregister it and register it again to re-key`,
      { keyFingerprint: bound },
    );
  await approveWorker(core, id);
}

/**
 * Approves a worker whose agent said hello with a key not registered for it: its agent gets
 * tasks from now on. Approving an approved worker changes nothing.
 */
export function approveWorker(core: Core, id: string): Promise<WorkerView> {
  const row = findWorker(core.sql, id);
  if (!row || row.state === 'gone') throw notFound('worker', id);
  if (row.approved_at === null && row.public_key === null)
    throw conflict(
      `worker ${id} has no agent key to approve yet: approve it once its agent has said hello, or register it with the agent's fingerprint`,
    );
  const effects = newEffects();
  core.sql.transaction(() => {
    if (!approve(core.sql, id, core.now())) return;
    tellWorker(core.sql, effects, id, { type: 'approved' });
    effects.dispatch = true;
  });
  commit(core, effects);
  return getWorker(core, id);
}

export function getWorker(core: Core, id: string): Promise<WorkerView> {
  const row = findWorker(core.sql, id);
  if (!row) throw notFound('worker', id);
  return workerView(core.sql, row, core.now());
}

export function listWorkers(core: Core, state: WorkerState | undefined): Promise<WorkerView[]> {
  return listWorkerViews(core.sql, state, core.now());
}

/**
 * Drains a worker: no new tasks, running ones finish, then it is removed. With `force`, its
 * tasks are requeued at once and it is removed now.
 */
export function deregisterWorker(core: Core, id: string, force: boolean): Promise<WorkerView> {
  const row = findWorker(core.sql, id);
  if (!row || row.state === 'gone') throw notFound('worker', id);
  const effects = newEffects();
  core.sql.transaction(() => {
    if (force || row.conn_id === null) {
      retire(core.sql, effects, id, row.conn_id, core.now());
      return;
    }
    setWorkerState(core.sql, id, 'draining');
    effects.outbox.push({ connId: row.conn_id, frame: { type: 'drain' } });
    finishDrainIfIdle(core.sql, effects, id, core.now());
  });
  commit(core, effects);
  return getWorker(core, id);
}
