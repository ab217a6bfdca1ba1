/**
 * When the alarm's work next comes due, table by table: leases of agents and of jobs, attempt
 * deadlines, backoffs, job deadlines. Each is null when nothing of its kind is pending.
 */
import { z } from 'zod';
import { LIVE_TASK_STATES } from './rows.ts';
import type { Sql } from './sql.ts';

const At = z.object({ at: z.number().nullable() });
const at = (sql: Sql, query: string, ...values: number[]) =>
  sql.row(At, query, ...values)?.at ?? null;

/** When the first connected agent's lease of `leaseMs` lapses. */
export const agentLeaseDue = (sql: Sql, leaseMs: number) =>
  at(
    sql,
    `SELECT min(last_heartbeat_at) + ? AS at FROM workers WHERE conn_id IS NOT NULL`,
    leaseMs,
  );

/** When the first live attempt of a job with a lease of its own outlives its agent's silence. */
export const jobLeaseDue = (sql: Sql) =>
  at(
    sql,
    `SELECT min(w.last_heartbeat_at + j.lease_ms) AS at FROM tasks t
     JOIN jobs j ON j.id = t.job_id JOIN workers w ON w.id = t.worker_id
     WHERE t.state IN ${LIVE_TASK_STATES} AND j.lease_ms IS NOT NULL AND w.conn_id IS NOT NULL`,
  );

/** When the first live attempt's deadline passes. */
export const attemptDeadlineDue = (sql: Sql) =>
  at(
    sql,
    `SELECT min(deadline_at) AS at FROM tasks WHERE state IN ${LIVE_TASK_STATES} AND deadline_at IS NOT NULL`,
  );

/** When the first backoff still running at `now` ends. */
export const backoffDue = (sql: Sql, now: number) =>
  at(
    sql,
    `SELECT min(not_before) AS at FROM tasks
     WHERE state = 'queued' AND not_before IS NOT NULL AND not_before > ?`,
    now,
  );
