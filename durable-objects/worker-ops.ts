/** Worker operations behind the HTTP API: register, read, list, deregister (drain or force). */
import type {
  RegisterWorkerRequest,
  RegisteredWorker,
  WorkerState,
  WorkerView,
} from '../protocol/index.ts';
import type { Core } from './core.ts';
import { commit } from './core.ts';
import { newEffects } from './effects.ts';
import { notFound } from './failure.ts';
import { hashToken, newToken } from './tokens.ts';
import {
  findLiveWorkerByAddress,
  findWorker,
  insertWorker,
  listWorkerViews,
  setWorkerState,
  workerView,
} from './workers-store.ts';
import { finishDrainIfIdle, retire } from './worker-lifecycle.ts';

/** Registers an address; registering a live address again returns the same worker (created: false). */
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

function updated(core: Core, id: string, request: RegisterWorkerRequest): Promise<WorkerView> {
  if (request.labels)
    core.sql.run(`UPDATE workers SET labels = ? WHERE id = ?`, JSON.stringify(request.labels), id);
  if (request.slots) core.sql.run(`UPDATE workers SET slots = ? WHERE id = ?`, request.slots, id);
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
