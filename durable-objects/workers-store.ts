/** Worker records in SQLite: register, find, list, bind to an agent connection. */
import type {
  Isolation,
  RegisterWorkerRequest,
  WorkerState,
  WorkerView,
} from '../protocol/index.ts';
import type { Sql } from './db/sql.ts';
import { toWorkerView } from './views.ts';
import { LIVE_TASK_STATES, type WorkerRow } from './db/rows.ts';
import { keyFingerprint } from './agent-keys.ts';

export function findWorker(sql: Sql, id: string): WorkerRow | null {
  return sql.first<WorkerRow>(`SELECT * FROM workers WHERE id = ?`, id);
}

export function findLiveWorkerByAddress(sql: Sql, address: string): WorkerRow | null {
  return sql.first<WorkerRow>(
    `SELECT * FROM workers WHERE address = ? AND state != 'gone'`,
    address,
  );
}

/**
 * A new worker record, `pending`. Registered with a fingerprint it is approved from the start:
 * the admin named the one key it may bind.
 */
export function insertWorker(
  sql: Sql,
  worker: { id: string; request: RegisterWorkerRequest; tokenHash: string | null; now: number },
): WorkerRow {
  const fingerprint = worker.request.fingerprint ?? null;
  sql.run(
    `INSERT INTO workers (id, address, labels, slots, state, token_hash, registered_at,
       expected_fingerprint, approved_at)
     VALUES (?, ?, ?, ?, 'pending', ?, ?, ?, ?)`,
    worker.id,
    worker.request.address,
    JSON.stringify(worker.request.labels ?? {}),
    worker.request.slots ?? null,
    worker.tokenHash,
    worker.now,
    fingerprint,
    fingerprint === null ? null : worker.now,
  );
  const row = findWorker(sql, worker.id);
  if (!row) throw new Error(`worker ${worker.id} vanished after insert`);
  return row;
}

/**
 * Approves a worker: from now on its agent gets tasks. A connected pending worker becomes ready
 * at once; returns whether this call approved it (false: it already was).
 */
export function approveWorker(sql: Sql, id: string, now: number): boolean {
  return (
    sql.run(
      `UPDATE workers SET approved_at = ?,
         state = CASE WHEN state = 'pending' AND conn_id IS NOT NULL THEN 'ready' ELSE state END
       WHERE id = ? AND approved_at IS NULL AND state != 'gone'`,
      now,
      id,
    ) > 0
  );
}

/**
 * Pre-registers the key of a worker no agent has bound a key to yet, and approves it; false when
 * an agent already bound one (the fingerprint then has to match that key instead).
 */
export function expectFingerprint(sql: Sql, id: string, fingerprint: string, now: number): boolean {
  return (
    sql.run(
      `UPDATE workers SET expected_fingerprint = ?, approved_at = coalesce(approved_at, ?)
       WHERE id = ? AND public_key IS NULL AND state != 'gone'`,
      fingerprint,
      now,
      id,
    ) > 0
  );
}

/** Running-task counts per worker. */
export function runningByWorker(sql: Sql): Map<string, number> {
  const rows = sql.all<{ worker_id: string; n: number }>(
    `SELECT worker_id, count(*) AS n FROM tasks WHERE state IN ${LIVE_TASK_STATES} GROUP BY worker_id`,
  );
  return new Map(rows.map((row) => [row.worker_id, row.n]));
}

export async function listWorkerViews(
  sql: Sql,
  state: WorkerState | undefined,
  now: number,
): Promise<WorkerView[]> {
  const rows = state
    ? sql.all<WorkerRow>(`SELECT * FROM workers WHERE state = ? ORDER BY seq`, state)
    : sql.all<WorkerRow>(`SELECT * FROM workers WHERE state != 'gone' ORDER BY seq`);
  const running = runningByWorker(sql);
  const fingerprints = await Promise.all(rows.map((row) => keyFingerprint(row.public_key)));
  return rows.map((row, i) =>
    toWorkerView(row, running.get(row.id) ?? 0, now, fingerprints[i] ?? null),
  );
}

export async function workerView(sql: Sql, row: WorkerRow, now: number): Promise<WorkerView> {
  const running = sql.first<{ n: number }>(
    `SELECT count(*) AS n FROM tasks WHERE worker_id = ? AND state IN ${LIVE_TASK_STATES}`,
    row.id,
  );
  return toWorkerView(row, running?.n ?? 0, now, await keyFingerprint(row.public_key));
}

/** Ready (so approved), connected workers in registration order: the candidates for placement. */
export function connectedReadyWorkers(sql: Sql): WorkerRow[] {
  return sql.all<WorkerRow>(
    `SELECT * FROM workers
     WHERE state = 'ready' AND approved_at IS NOT NULL AND conn_id IS NOT NULL AND accepting = 1
     ORDER BY seq`,
  );
}

export function setWorkerState(sql: Sql, id: string, state: WorkerState): void {
  sql.run(`UPDATE workers SET state = ? WHERE id = ?`, state, id);
}

export function bindConnection(
  sql: Sql,
  id: string,
  binding: {
    connId: string;
    agentSlots: number;
    acceptsCommands: boolean;
    executors: readonly string[];
    isolation: Isolation;
    draining: boolean;
    now: number;
  },
): void {
  sql.run(
    `UPDATE workers SET conn_id = ?, agent_slots = ?, accepts_commands = ?, executors = ?, isolation = ?, accepting = ?,
       connected_at = ?, last_heartbeat_at = ?,
       state = CASE WHEN state = 'draining' THEN 'draining'
                    WHEN approved_at IS NULL THEN 'pending' ELSE 'ready' END
     WHERE id = ?`,
    binding.connId,
    binding.agentSlots,
    binding.acceptsCommands ? 1 : 0,
    JSON.stringify(binding.executors),
    binding.isolation,
    binding.draining ? 0 : 1,
    binding.now,
    binding.now,
    id,
  );
}

/** Clears the connection if it is still `connId`; returns whether it was. */
export function unbindConnection(sql: Sql, id: string, connId: string): boolean {
  return (
    sql.run(
      `UPDATE workers SET conn_id = NULL,
         state = CASE WHEN state = 'ready' THEN 'lost' WHEN state = 'draining' THEN 'gone' ELSE state END
       WHERE id = ? AND conn_id = ?`,
      id,
      connId,
    ) > 0
  );
}

/** The agent drains on its own: keep it connected but place nothing new on it. */
export function stopAccepting(sql: Sql, id: string, connId: string): void {
  sql.run(`UPDATE workers SET accepting = 0 WHERE id = ? AND conn_id = ?`, id, connId);
}

export function recordHeartbeat(sql: Sql, id: string, connId: string, now: number): void {
  sql.run(`UPDATE workers SET last_heartbeat_at = ? WHERE id = ? AND conn_id = ?`, now, id, connId);
}

/** Connected workers whose last heartbeat is older than the lease. */
export function lapsedWorkers(sql: Sql, olderThan: number): WorkerRow[] {
  return sql.all<WorkerRow>(
    `SELECT * FROM workers WHERE conn_id IS NOT NULL AND last_heartbeat_at < ?`,
    olderThan,
  );
}

export function countConnected(sql: Sql): number {
  return (
    sql.first<{ n: number }>(`SELECT count(*) AS n FROM workers WHERE conn_id IS NOT NULL`)?.n ?? 0
  );
}
