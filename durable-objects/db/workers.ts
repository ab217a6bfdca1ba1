/** Queries on `workers`: register, find, list, bind to an agent connection, retire. */
import { z } from 'zod';
import { WorkerState } from '../../protocol/index.ts';
import type { Isolation, RegisterWorkerRequest } from '../../protocol/index.ts';
import type { Sql } from './sql.ts';
import { Count, WorkerRow } from './rows.ts';

export function findWorker(sql: Sql, id: string): WorkerRow | null {
  return sql.row(WorkerRow, `SELECT * FROM workers WHERE id = ?`, id);
}

export function findLiveWorkerByAddress(sql: Sql, address: string): WorkerRow | null {
  return sql.row(WorkerRow, `SELECT * FROM workers WHERE address = ? AND state != 'gone'`, address);
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

/** The workers in registration order: those in `state`, or all but the gone ones. */
export function listWorkers(sql: Sql, state: WorkerState | undefined): WorkerRow[] {
  return state
    ? sql.rows(WorkerRow, `SELECT * FROM workers WHERE state = ? ORDER BY seq`, state)
    : sql.rows(WorkerRow, `SELECT * FROM workers WHERE state != 'gone' ORDER BY seq`);
}

/** Ready (so approved), connected workers in registration order: the candidates for placement. */
export function connectedReadyWorkers(sql: Sql): WorkerRow[] {
  return sql.rows(
    WorkerRow,
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
    dataPort: number | null;
    now: number;
  },
): void {
  sql.run(
    `UPDATE workers SET conn_id = ?, agent_slots = ?, accepts_commands = ?, executors = ?, isolation = ?, accepting = ?,
       connected_at = ?, last_heartbeat_at = ?, data_port = ?,
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
    binding.dataPort,
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
  return sql.rows(
    WorkerRow,
    `SELECT * FROM workers WHERE conn_id IS NOT NULL AND last_heartbeat_at < ?`,
    olderThan,
  );
}

export function countConnected(sql: Sql): number {
  return sql.row(Count, `SELECT count(*) AS n FROM workers WHERE conn_id IS NOT NULL`)?.n ?? 0;
}

/** The worker a join token was issued to, unless it is gone. */
export function workerOfTokenHash(sql: Sql, hash: string): string | null {
  return (
    sql.row(
      z.object({ id: z.string() }),
      `SELECT id FROM workers WHERE token_hash = ? AND state != 'gone'`,
      hash,
    )?.id ?? null
  );
}

const StateCount = z.object({
  state: WorkerState,
  connected: z.number().int(),
  n: z.number().int(),
});

/** Workers that are not gone, counted by state and by whether an agent is connected (1 or 0). */
export function countWorkersByState(sql: Sql): z.infer<typeof StateCount>[] {
  return sql.rows(
    StateCount,
    `SELECT state, conn_id IS NOT NULL AS connected, count(*) AS n FROM workers
     WHERE state != 'gone' GROUP BY state, connected`,
  );
}

/** How many ready workers have an agent connected. */
export function countReadyConnected(sql: Sql): number {
  return (
    sql.row(
      Count,
      `SELECT count(*) AS n FROM workers WHERE state = 'ready' AND conn_id IS NOT NULL`,
    )?.n ?? 0
  );
}

/** The agent connection a worker speaks through, or null. */
export function connectionOf(sql: Sql, id: string): string | null {
  return (
    sql.row(
      z.object({ conn_id: z.string().nullable() }),
      `SELECT conn_id FROM workers WHERE id = ?`,
      id,
    )?.conn_id ?? null
  );
}

/** Records the key an agent bound, unless the worker already has one; returns whether it bound. */
export function bindKey(sql: Sql, id: string, publicKey: string): boolean {
  return (
    sql.run(
      `UPDATE workers SET public_key = ? WHERE id = ? AND public_key IS NULL`,
      publicKey,
      id,
    ) > 0
  );
}

export function setLabels(sql: Sql, id: string, labels: Record<string, string>): void {
  sql.run(`UPDATE workers SET labels = ? WHERE id = ?`, JSON.stringify(labels), id);
}

export function setSlots(sql: Sql, id: string, slots: number): void {
  sql.run(`UPDATE workers SET slots = ? WHERE id = ?`, slots, id);
}

/** A deregistered worker: gone, its connection forgotten. */
export function markGone(sql: Sql, id: string): void {
  sql.run(`UPDATE workers SET state = 'gone', conn_id = NULL WHERE id = ?`, id);
}
