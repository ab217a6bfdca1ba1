/** Job records in SQLite: create with their tasks, read, list, settle when their tasks end. */
import {
  isEndState,
  taskCost,
  type JobState,
  type JobView,
  type TaskCounts,
} from '../protocol/index.ts';
import { whereGiven, type Sql } from './db/sql.ts';
import type { Effects } from './effects.ts';
import { jobOutcome } from './job-outcome.ts';
import { advanceAggregate } from './aggregate-phases.ts';
import { scheduleCleanup } from './aggregate-cleanup.ts';
import { forgetInlineOutputs, inlineResult } from './aggregate-inline.ts';
import { aggregateProgress } from './aggregate-progress.ts';
import type { JobDraft, PlannedTask } from './job-plan.ts';
import { toJobView, toTaskView } from './views.ts';
import { type JobRow, type TaskRow } from './db/rows.ts';
import { attemptCounts } from './task-attempts.ts';

/** Stores a job and its first tasks; `tenantId` owns it (null: the admin's). */
export function insertJob(sql: Sql, job: JobDraft, now: number, tenantId: string | null): void {
  const { policy } = job;
  sql.run(
    `INSERT INTO jobs (id, name, kind, spec, state, retries, backoff_initial_ms, backoff_max_ms,
       max_lost, lease_ms, task_timeout_ms, deadline_at, tasks_total, phase, created_at, tenant_id)
     VALUES (?, ?, ?, ?, 'queued', ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?)`,
    job.id,
    job.name,
    job.kind,
    JSON.stringify(job.spec),
    policy.retries,
    policy.backoffInitialMs,
    policy.backoffMaxMs,
    policy.maxLost,
    policy.leaseMs,
    policy.taskTimeoutMs,
    policy.jobTimeoutMs === null ? null : now + policy.jobTimeoutMs,
    job.phase,
    now,
    tenantId,
  );
  insertTasks(sql, job.id, job.taskKind ?? job.kind, job.tasks, now);
}

/** Adds tasks to a job (its first ones, or the next phase's), numbered after the ones it has. */
export function insertTasks(
  sql: Sql,
  jobId: string,
  kind: string,
  tasks: readonly PlannedTask[],
  now: number,
): void {
  const job = findJob(sql, jobId);
  const first = job?.tasks_total ?? 0;
  const cost = taskCost(kind);
  tasks.forEach((task, offset) => {
    sql.run(
      `INSERT INTO tasks (id, job_id, idx, kind, cost, state, pinned_worker_id, spec, created_at,
         tenant_id, pipeline_id, requires, preferred_worker_id)
       VALUES (?, ?, ?, ?, ?, 'queued', ?, ?, ?, ?, ?, ?, ?)`,
      crypto.randomUUID(),
      jobId,
      first + offset,
      kind,
      cost,
      task.pinnedWorkerId,
      task.spec === undefined ? null : JSON.stringify(task.spec),
      now,
      job?.tenant_id ?? null,
      task.pipeline?.id ?? null,
      task.pipeline ? JSON.stringify(task.pipeline.requires) : null,
      task.preferredWorkerId ?? null,
    );
  });
  sql.run(`UPDATE jobs SET tasks_total = tasks_total + ? WHERE id = ?`, tasks.length, jobId);
}

/** Ends a job that cannot run at all (its inputs could not be listed, say) with a clear error. */
export function failJob(
  sql: Sql,
  effects: Effects,
  jobId: string,
  error: string,
  now: number,
): void {
  sql.run(
    `UPDATE jobs SET state = 'failed', error = ?, finished_at = ? WHERE id = ?`,
    error,
    now,
    jobId,
  );
  effects.endedJobs.push({ id: jobId, state: 'failed' });
}

export function findJob(sql: Sql, id: string): JobRow | null {
  return sql.first<JobRow>(`SELECT * FROM jobs WHERE id = ?`, id);
}

/**
 * A job as `owner` may see it: a tenant sees only its own jobs (null owner: the admin, who sees
 * every job). Another tenant's job is "not found", never "forbidden", so ids leak nothing.
 */
export function findOwnedJob(sql: Sql, id: string, owner: string | null): JobRow | null {
  return sql.first<JobRow>(
    `SELECT * FROM jobs WHERE id = ? AND (? IS NULL OR tenant_id = ?)`,
    id,
    owner,
    owner,
  );
}

export function jobCounts(sql: Sql, jobId: string): TaskCounts {
  const counts: TaskCounts = { queued: 0, running: 0, succeeded: 0, failed: 0, cancelled: 0 };
  const rows = sql.all<{ state: TaskRow['state']; n: number }>(
    `SELECT state, count(*) AS n FROM tasks WHERE job_id = ? GROUP BY state`,
    jobId,
  );
  for (const { state, n } of rows) {
    counts[state === 'assigned' ? 'running' : state] += n;
  }
  return counts;
}

export function jobView(sql: Sql, row: JobRow, taskLimit: number): JobView {
  const tasks =
    taskLimit > 0
      ? sql
          .all<TaskRow>(
            `SELECT * FROM tasks WHERE job_id = ? ORDER BY idx LIMIT ?`,
            row.id,
            taskLimit,
          )
          .map(toTaskView)
      : undefined;
  const view = toJobView(row, jobCounts(sql, row.id), attemptCounts(sql, row), tasks);
  return row.kind === 'aggregate' ? { ...view, progress: aggregateProgress(sql, row) } : view;
}

export function listJobs(
  sql: Sql,
  state: JobState | undefined,
  limit: number,
  owner: string | null,
): JobRow[] {
  const { clause, values } = whereGiven({ 'state = ?': state, 'tenant_id = ?': owner });
  return sql.all<JobRow>(
    `SELECT * FROM jobs ${clause} ORDER BY created_at DESC LIMIT ?`,
    ...values,
    limit,
  );
}

export function markJobsStarted(sql: Sql, jobIds: Iterable<string>, now: number): void {
  for (const id of jobIds) {
    sql.run(
      `UPDATE jobs SET state = 'running', started_at = ? WHERE id = ? AND state = 'queued'`,
      now,
      id,
    );
  }
}

/** Counts ended tasks into their jobs and settles every job whose tasks have all ended. */
export function recordTaskEnds(sql: Sql, effects: Effects, now: number, from = 0): void {
  const perJob = new Map<string, { succeeded: number; failed: number; cancelled: number }>();
  for (const task of effects.endedTasks.slice(from)) {
    const counts = perJob.get(task.jobId) ?? { succeeded: 0, failed: 0, cancelled: 0 };
    if (task.state === 'succeeded' || task.state === 'failed' || task.state === 'cancelled') {
      counts[task.state] += 1;
    }
    perJob.set(task.jobId, counts);
  }
  for (const [jobId, counts] of perJob) {
    sql.run(
      `UPDATE jobs SET n_succeeded = n_succeeded + ?, n_failed = n_failed + ?, n_cancelled = n_cancelled + ?
       WHERE id = ?`,
      counts.succeeded,
      counts.failed,
      counts.cancelled,
      jobId,
    );
    settleJob(sql, effects, jobId, now);
  }
}

function settleJob(sql: Sql, effects: Effects, jobId: string, now: number): void {
  let row = findJob(sql, jobId);
  if (!row || isEndState(row.state)) return;
  if (row.kind === 'aggregate') {
    if (advanceAggregate(sql, effects, row, now)) return;
    row = findJob(sql, jobId) ?? row;
  }
  const state = jobOutcome({
    total: row.tasks_total,
    succeeded: row.n_succeeded,
    failed: row.n_failed,
    cancelled: row.n_cancelled,
    cancelRequested: row.cancel_requested === 1,
  });
  if (!state) return;
  const error =
    state === 'failed'
      ? (sql.first<{ error: string | null }>(
          // The root cause: the first task that failed, before any sibling it got cancelled.
          `SELECT error FROM tasks WHERE job_id = ? AND state IN ('failed','cancelled')
           ORDER BY state = 'failed' DESC, finished_at, seq LIMIT 1`,
          jobId,
        )?.error ?? 'a task failed')
      : null;
  sql.run(
    `UPDATE jobs SET state = ?, finished_at = ?, error = ? WHERE id = ?`,
    state,
    now,
    error,
    jobId,
  );
  effects.endedJobs.push({ id: jobId, state });
  if (row.kind === 'aggregate') {
    const held = state === 'succeeded' ? inlineResult(sql, row) : null;
    if (held) effects.results.push(held);
    scheduleCleanup(sql, effects, jobId, now);
    forgetInlineOutputs(sql, jobId);
  }
}
