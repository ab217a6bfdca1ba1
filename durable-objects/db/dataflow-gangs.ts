/**
 * Stream groups of dataflow jobs: each group's run (epoch), whether its instances are placed, the
 * secret its agents' data connections present, and the tasks of the group.
 */
import { z } from 'zod';
import { LiveAttempt } from './attempts.ts';
import type { Sql } from './sql.ts';

export const GangRow = z.object({
  job_id: z.string(),
  gang: z.number().int(),
  epoch: z.number().int(),
  placed: z.number().int(),
  secret: z.string(),
  waiting_for: z.string().nullable(),
});
export type GangRow = z.infer<typeof GangRow>;

export const GangTask = z.object({
  id: z.string(),
  state: z.string(),
  stage: z.number().int(),
  worker_id: z.string().nullable(),
});
export type GangTask = z.infer<typeof GangTask>;

/** A new random secret: 32 bytes as hex. */
export function newSecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

export function insertGang(sql: Sql, jobId: string, gang: number): void {
  sql.run(
    `INSERT OR IGNORE INTO dataflow_gangs (job_id, gang, secret) VALUES (?, ?, ?)`,
    jobId,
    gang,
    newSecret(),
  );
}

/** Groups of jobs that have not ended, placed or not. */
export function liveGangs(sql: Sql): GangRow[] {
  return sql.rows(
    GangRow,
    `SELECT g.job_id, g.gang, g.epoch, g.placed, g.secret, g.waiting_for
     FROM dataflow_gangs g JOIN jobs j ON j.id = g.job_id
     WHERE j.state IN ('queued','running') ORDER BY j.created_at, g.gang`,
  );
}

export function findGang(sql: Sql, jobId: string, gang: number): GangRow | null {
  return sql.row(
    GangRow,
    `SELECT job_id, gang, epoch, placed, secret, waiting_for FROM dataflow_gangs
     WHERE job_id = ? AND gang = ?`,
    jobId,
    gang,
  );
}

export function gangsOfJob(sql: Sql, jobId: string): GangRow[] {
  return sql.rows(
    GangRow,
    `SELECT job_id, gang, epoch, placed, secret, waiting_for FROM dataflow_gangs WHERE job_id = ?`,
    jobId,
  );
}

export function gangTasks(sql: Sql, jobId: string, gang: number): GangTask[] {
  return sql.rows(
    GangTask,
    `SELECT id, state, stage, worker_id FROM tasks WHERE job_id = ? AND gang = ? ORDER BY idx`,
    jobId,
    gang,
  );
}

export function markPlaced(sql: Sql, jobId: string, gang: number): void {
  sql.run(
    `UPDATE dataflow_gangs SET placed = 1, waiting_for = NULL WHERE job_id = ? AND gang = ?`,
    jobId,
    gang,
  );
}

export function setWaitingFor(sql: Sql, jobId: string, gang: number, text: string): void {
  sql.run(
    `UPDATE dataflow_gangs SET waiting_for = ? WHERE job_id = ? AND gang = ? AND placed = 0`,
    text,
    jobId,
    gang,
  );
}

/**
 * Puts every task of a placed group back in the queue for a new run of the group, fenced by the
 * epoch it was read in: live attempts (returned, for their agents to be told to stop) and
 * succeeded ones (counted, for the job's counters) alike. The group gets a new secret, so a
 * connection of the old run is refused.
 */
export function restartGang(
  sql: Sql,
  gang: GangRow,
  error: string,
): { stopped: LiveAttempt[]; undone: number } | null {
  const moved = sql.run(
    `UPDATE dataflow_gangs SET epoch = epoch + 1, placed = 0, secret = ?, waiting_for = NULL
     WHERE job_id = ? AND gang = ? AND epoch = ?`,
    newSecret(),
    gang.job_id,
    gang.gang,
    gang.epoch,
  );
  if (moved === 0) return null;
  const stopped = sql.rows(
    LiveAttempt,
    `SELECT id, attempt, job_id, worker_id, assigned_at, started_at FROM tasks
     WHERE job_id = ? AND gang = ? AND state IN ('assigned','running')`,
    gang.job_id,
    gang.gang,
  );
  sql.run(
    `UPDATE tasks SET state = 'queued', worker_id = NULL, error = ?
     WHERE job_id = ? AND gang = ? AND state IN ('assigned','running')`,
    error,
    gang.job_id,
    gang.gang,
  );
  const undone = sql.run(
    `UPDATE tasks SET state = 'queued', worker_id = NULL, result = NULL, finished_at = NULL
     WHERE job_id = ? AND gang = ? AND state = 'succeeded'`,
    gang.job_id,
    gang.gang,
  );
  return { stopped, undone };
}

/** A live attempt of a stream group's task on `workerId`, fenced like every report; else null. */
export function findStreamAttempt(
  sql: Sql,
  fence: { taskId: string; attempt: number; workerId: string },
): { job_id: string; gang: number; stage: number; spec: string } | null {
  return sql.row(
    z.object({
      job_id: z.string(),
      gang: z.number().int(),
      stage: z.number().int(),
      spec: z.string(),
    }),
    `SELECT job_id, gang, stage, spec FROM tasks
     WHERE id = ? AND attempt = ? AND worker_id = ? AND state IN ('assigned','running')
       AND gang IS NOT NULL`,
    fence.taskId,
    fence.attempt,
    fence.workerId,
  );
}

export interface Arrival {
  jobId: string;
  gang: number;
  epoch: number;
  stage: number;
  name: string;
  instance: number;
}

/** Records that an instance reached a barrier in this run; returns how many of its stage have. */
export function recordArrival(sql: Sql, at: Arrival): number {
  sql.run(
    `INSERT OR IGNORE INTO dataflow_barriers (job_id, gang, epoch, stage, name, instance)
     VALUES (?, ?, ?, ?, ?, ?)`,
    at.jobId,
    at.gang,
    at.epoch,
    at.stage,
    at.name,
    at.instance,
  );
  return (
    sql.row(
      z.object({ n: z.number().int() }),
      `SELECT count(*) AS n FROM dataflow_barriers
       WHERE job_id = ? AND gang = ? AND epoch = ? AND stage = ? AND name = ?`,
      at.jobId,
      at.gang,
      at.epoch,
      at.stage,
      at.name,
    )?.n ?? 0
  );
}

/** The instances of a stage (all of its tasks), and the live attempts among them. */
export function stageAttempts(
  sql: Sql,
  jobId: string,
  stage: number,
): { id: string; attempt: number; worker_id: string | null; state: string }[] {
  return sql.rows(
    z.object({
      id: z.string(),
      attempt: z.number().int(),
      worker_id: z.string().nullable(),
      state: z.string(),
    }),
    `SELECT id, attempt, worker_id, state FROM tasks WHERE job_id = ? AND stage = ?`,
    jobId,
    stage,
  );
}

/** A stage's instances in order, with their current agents' addresses and data ports. */
export function stagePeers(
  sql: Sql,
  jobId: string,
  stage: number,
): { id: string; address: string; data_port: number | null }[] {
  return sql.rows(
    z.object({ id: z.string(), address: z.string(), data_port: z.number().int().nullable() }),
    `SELECT t.id, w.address, w.data_port FROM tasks t JOIN workers w ON w.id = t.worker_id
     WHERE t.job_id = ? AND t.stage = ? ORDER BY t.idx`,
    jobId,
    stage,
  );
}
