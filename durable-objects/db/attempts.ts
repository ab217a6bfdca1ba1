/**
 * State changes of task attempts, batch-first. Every change an agent or a timer asks for is
 * fenced inside the UPDATE's WHERE by task id, attempt and worker (and a live state), and the
 * number of rows written tells whether the fence held: a late or duplicate report of an old
 * attempt changes nothing, and no read before the write decides it.
 */
import { z } from 'zod';
import type { TaskRef } from '../../protocol/index.ts';
import { Count, LIVE_TASK_STATES } from './rows.ts';
import type { Sql } from './sql.ts';

/** An attempt's fence: the task, the attempt, and the worker that holds it. */
export interface AttemptFence {
  taskId: string;
  attempt: number;
  workerId: string | null;
}

const FENCE = `id = ? AND attempt = ? AND worker_id = ? AND state IN ${LIVE_TASK_STATES}`;
/** The same fence on `tasks t` in a join. */
const JOINED_FENCE = `t.id = ? AND t.attempt = ? AND t.worker_id = ? AND t.state IN ${LIVE_TASK_STATES}`;
const fenceValues = (fence: AttemptFence) => [fence.taskId, fence.attempt, fence.workerId];

/** What an attempt's end is recorded from: the task row as it stood while the attempt was live. */
export const LiveAttempt = z.object({
  id: z.string(),
  attempt: z.number().int(),
  job_id: z.string(),
  worker_id: z.string().nullable(),
  assigned_at: z.number().nullable(),
  started_at: z.number().nullable(),
});
export type LiveAttempt = z.infer<typeof LiveAttempt>;

/** A live attempt with what its job allows for retries. */
export const FailingAttempt = LiveAttempt.extend({
  failures: z.number().int(),
  retries: z.number().int(),
  backoff_initial_ms: z.number(),
  backoff_max_ms: z.number(),
  task_timeout_ms: z.number().nullable(),
});
export type FailingAttempt = z.infer<typeof FailingAttempt>;

/** A live attempt with what its job allows for lost agents. */
export const LostAttempt = LiveAttempt.extend({
  losses: z.number().int(),
  max_lost: z.number().int(),
});
export type LostAttempt = z.infer<typeof LostAttempt>;

const FAILING_ATTEMPT = `SELECT t.id, t.attempt, t.worker_id, t.assigned_at, t.started_at, t.job_id,
  t.failures, j.retries, j.backoff_initial_ms, j.backoff_max_ms, j.task_timeout_ms
  FROM tasks t JOIN jobs j ON j.id = t.job_id`;

const LOST_ATTEMPT = `SELECT t.id, t.attempt, t.worker_id, t.assigned_at, t.started_at, t.job_id,
  t.losses, j.max_lost FROM tasks t JOIN jobs j ON j.id = t.job_id`;

const Assigned = z.object({
  job_id: z.string(),
  attempt: z.number().int(),
  spec: z.string().nullable(),
  deadline_at: z.number().nullable(),
  tenant_id: z.string().nullable(),
});
export type Assigned = z.infer<typeof Assigned>;

/**
 * Moves a queued task to a worker as a new attempt, with its deadline (`now + grace` plus its
 * job's task timeout); null when the task was no longer queued.
 */
export function assignTask(
  sql: Sql,
  taskId: string,
  workerId: string,
  now: number,
  grace: number,
): Assigned | null {
  return sql.row(
    Assigned,
    `UPDATE tasks SET state = 'assigned', worker_id = ?, attempt = attempt + 1, assigned_at = ?,
       started_at = NULL, log_bytes = 0, log_truncated = 0, not_before = NULL,
       deadline_at = ? + (SELECT j.task_timeout_ms FROM jobs j WHERE j.id = tasks.job_id)
     WHERE id = ? AND state = 'queued' RETURNING job_id, attempt, spec, deadline_at,
       (SELECT j.tenant_id FROM jobs j WHERE j.id = tasks.job_id) AS tenant_id`,
    workerId,
    now,
    now + grace,
    taskId,
  );
}

/** Stores how far a live attempt is (JSON text); false when the fence did not hold. */
export function setProgress(sql: Sql, fence: AttemptFence, progress: string): boolean {
  return (
    sql.run(`UPDATE tasks SET progress = ? WHERE ${FENCE}`, progress, ...fenceValues(fence)) > 0
  );
}

const Started = z.object({ created_at: z.number(), attempt: z.number().int() });

/**
 * Marks an assigned attempt running; returns when its task was submitted and which attempt this
 * is, or null when the fence did not hold.
 */
export function markStarted(
  sql: Sql,
  fence: AttemptFence,
  now: number,
): z.infer<typeof Started> | null {
  return sql.row(
    Started,
    `UPDATE tasks SET state = 'running', started_at = ?
     WHERE id = ? AND attempt = ? AND worker_id = ? AND state = 'assigned'
     RETURNING created_at, attempt`,
    now,
    ...fenceValues(fence),
  );
}

const Completed = z.object({ job_id: z.string(), started_at: z.number().nullable() });

/**
 * Commits a live attempt's success; returns its job and when it started, or null when the fence
 * did not hold.
 */
export function completeAttempt(
  sql: Sql,
  fence: AttemptFence,
  end: { exitCode: number | null; result: string | null; resultIsPayload: boolean; now: number },
): z.infer<typeof Completed> | null {
  return sql.row(
    Completed,
    `UPDATE tasks SET state = 'succeeded', exit_code = ?, result = ?, result_is_payload = ?,
       error = NULL, finished_at = ?
     WHERE ${FENCE} RETURNING job_id, started_at`,
    end.exitCode,
    end.result,
    end.resultIsPayload ? 1 : 0,
    end.now,
    ...fenceValues(fence),
  );
}

/**
 * Ends a live attempt as a failure: back to the queue until `notBefore` when it is given, else
 * failed for good. False when the fence did not hold.
 */
export function failAttempt(
  sql: Sql,
  fence: AttemptFence,
  end: { error: string; exitCode: number | null; notBefore: number | null; now: number },
): boolean {
  const retry = end.notBefore !== null;
  return (
    sql.run(
      `UPDATE tasks SET state = ?, failures = failures + 1, error = ?, exit_code = ?, not_before = ?,
         worker_id = CASE WHEN ? THEN NULL ELSE worker_id END, finished_at = ?
       WHERE ${FENCE}`,
      retry ? 'queued' : 'failed',
      end.error,
      end.exitCode,
      end.notBefore,
      retry ? 1 : 0,
      retry ? null : end.now,
      ...fenceValues(fence),
    ) > 0
  );
}

/**
 * Ends a live attempt whose agent was lost: back to the queue, or failed for good when `failed`;
 * `losses` is the task's new count. False when the fence did not hold.
 */
export function loseAttempt(
  sql: Sql,
  fence: AttemptFence,
  end: { failed: boolean; losses: number; error: string; now: number },
): boolean {
  return (
    sql.run(
      `UPDATE tasks SET state = CASE WHEN ? THEN 'failed' ELSE 'queued' END,
         worker_id = CASE WHEN ? THEN worker_id ELSE NULL END, losses = ?, error = ?,
         finished_at = CASE WHEN ? THEN ? ELSE finished_at END
       WHERE ${FENCE}`,
      end.failed ? 1 : 0,
      end.failed ? 1 : 0,
      end.losses,
      end.error,
      end.failed ? 1 : 0,
      end.now,
      ...fenceValues(fence),
    ) > 0
  );
}

/** A live attempt of a worker, with its job's retry policy; null when it is not live. */
export function findFailingAttempt(sql: Sql, fence: AttemptFence): FailingAttempt | null {
  return sql.row(FailingAttempt, `${FAILING_ATTEMPT} WHERE ${JOINED_FENCE}`, ...fenceValues(fence));
}

/** Live attempts that ran past their deadline. */
export function overdueAttempts(sql: Sql, now: number): FailingAttempt[] {
  return sql.rows(
    FailingAttempt,
    `${FAILING_ATTEMPT} WHERE t.state IN ${LIVE_TASK_STATES} AND t.deadline_at IS NOT NULL
       AND t.deadline_at <= ?`,
    now,
  );
}

/** Every live attempt of a worker, with its job's loss policy. */
export function lostAttemptsOf(sql: Sql, workerId: string): LostAttempt[] {
  return sql.rows(
    LostAttempt,
    `${LOST_ATTEMPT} WHERE t.worker_id = ? AND t.state IN ${LIVE_TASK_STATES}`,
    workerId,
  );
}

/** A live attempt with its job's loss policy; null when it is not live. */
export function findLostAttempt(sql: Sql, fence: AttemptFence): LostAttempt | null {
  return sql.row(LostAttempt, `${LOST_ATTEMPT} WHERE ${JOINED_FENCE}`, ...fenceValues(fence));
}

/** Live attempts of jobs with a lease of their own, on connected workers silent for longer. */
export function silentAttempts(sql: Sql, now: number): LostAttempt[] {
  return sql.rows(
    LostAttempt,
    `${LOST_ATTEMPT} JOIN workers w ON w.id = t.worker_id
     WHERE t.state IN ${LIVE_TASK_STATES} AND j.lease_ms IS NOT NULL AND w.conn_id IS NOT NULL
       AND w.last_heartbeat_at < ? - j.lease_ms`,
    now,
  );
}

/** The live attempts a worker holds. */
export function liveAttemptsOf(sql: Sql, workerId: string): TaskRef[] {
  return sql
    .rows(
      z.object({ id: z.string(), attempt: z.number().int() }),
      `SELECT id, attempt FROM tasks WHERE worker_id = ? AND state IN ${LIVE_TASK_STATES}`,
      workerId,
    )
    .map((row) => ({ taskId: row.id, attempt: row.attempt }));
}

/** How many attempts each worker holds live. */
export function liveAttemptsByWorker(sql: Sql): Map<string, number> {
  const rows = sql.rows(
    z.object({ worker_id: z.string(), n: z.number().int() }),
    `SELECT worker_id, count(*) AS n FROM tasks WHERE state IN ${LIVE_TASK_STATES} GROUP BY worker_id`,
  );
  return new Map(rows.map((row) => [row.worker_id, row.n]));
}

/** How many attempts one worker holds live. */
export function liveAttemptCount(sql: Sql, workerId: string): number {
  return (
    sql.row(
      Count,
      `SELECT count(*) AS n FROM tasks WHERE worker_id = ? AND state IN ${LIVE_TASK_STATES}`,
      workerId,
    )?.n ?? 0
  );
}

/** Cancels every unfinished task of a job; returns the attempts that were live or queued. */
export function cancelTasksOfJob(
  sql: Sql,
  jobId: string,
  reason: string,
  now: number,
): LiveAttempt[] {
  return sql.rows(
    LiveAttempt,
    `UPDATE tasks SET state = 'cancelled', finished_at = ?, error = ?
     WHERE job_id = ? AND state IN ('queued','assigned','running')
     RETURNING id, attempt, job_id, worker_id, assigned_at, started_at`,
    now,
    reason,
    jobId,
  );
}

/** Fails the queued tasks pinned to a worker; returns them. */
export function failPinnedTasks(
  sql: Sql,
  workerId: string,
  error: string,
  now: number,
): { id: string; job_id: string }[] {
  return sql.rows(
    z.object({ id: z.string(), job_id: z.string() }),
    `UPDATE tasks SET state = 'failed', finished_at = ?, error = ?
     WHERE pinned_worker_id = ? AND state = 'queued' RETURNING id, job_id`,
    now,
    error,
    workerId,
  );
}

/** A live aggregation attempt with its job's spec (JSON text); null when it is not live. */
export function findAggregateAttempt(
  sql: Sql,
  fence: AttemptFence,
): { kind: string; job_id: string; spec: string } | null {
  return sql.row(
    z.object({ kind: z.string(), job_id: z.string(), spec: z.string() }),
    `SELECT t.kind, t.job_id, j.spec FROM tasks t JOIN jobs j ON j.id = t.job_id
     WHERE ${JOINED_FENCE} AND t.kind LIKE 'aggregate-%'`,
    ...fenceValues(fence),
  );
}

/** The live attempt a report names, with its kind and the bytes of results its job has stored. */
export const ReportTarget = z.object({
  job_id: z.string(),
  kind: z.string(),
  result_bytes: z.number().int(),
});
export type ReportTarget = z.infer<typeof ReportTarget>;

/** What a reported result is priced against (result-budget.ts); null when the attempt is not live. */
export function findReportTarget(sql: Sql, fence: AttemptFence): ReportTarget | null {
  return sql.row(
    ReportTarget,
    `SELECT t.job_id, t.kind, j.result_bytes FROM tasks t JOIN jobs j ON j.id = t.job_id
     WHERE ${JOINED_FENCE}`,
    ...fenceValues(fence),
  );
}
