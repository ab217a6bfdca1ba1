/** Queries on `tasks` outside an attempt's transitions: add a job's tasks, read, list, count. */
import { z } from 'zod';
import { taskCost, TaskState, type TaskCounts } from '../../protocol/index.ts';
import type { PlannedTask } from '../job-plan.ts';
import { findJob } from './jobs.ts';
import { Count, TaskRow } from './rows.ts';
import type { Sql } from './sql.ts';
import { notRemoved } from './removed-jobs.ts';
import { timeOrderedId } from '../ids.ts';

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
  tasks.forEach((task, offset) => {
    const taskKind = task.kind ?? kind;
    sql.run(
      `INSERT INTO tasks (id, job_id, idx, kind, cost, state, pinned_worker_id, spec, created_at,
         tenant_id, pipeline_id, requires, preferred_worker_id, stage, gang)
       VALUES (?, ?, ?, ?, ?, 'queued', ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      timeOrderedId(now),
      jobId,
      first + offset,
      taskKind,
      taskCost(taskKind),
      task.pinnedWorkerId,
      task.spec === undefined ? null : JSON.stringify(task.spec),
      now,
      job?.tenant_id ?? null,
      task.pipeline?.id ?? null,
      task.pipeline ? JSON.stringify(task.pipeline.requires) : null,
      task.preferredWorkerId ?? null,
      task.stage ?? null,
      task.gang ?? null,
    );
  });
  sql.run(`UPDATE jobs SET tasks_total = tasks_total + ? WHERE id = ?`, tasks.length, jobId);
}

/** Up to `limit` whole rows of a job's tasks after index `afterIdx` (-1: from the first). */
export function jobTaskRowsAfter(
  sql: Sql,
  jobId: string,
  afterIdx: number,
  limit: number,
): TaskRow[] {
  return sql.rows(
    TaskRow,
    `SELECT * FROM tasks WHERE job_id = ? AND idx > ? ORDER BY idx LIMIT ?`,
    jobId,
    afterIdx,
    limit,
  );
}

/** The ids of a job's tasks, by index. */
export function jobTaskIds(sql: Sql, jobId: string): string[] {
  const rows = sql.rows(
    z.object({ id: z.string() }),
    `SELECT id FROM tasks WHERE job_id = ? ORDER BY idx`,
    jobId,
  );
  return rows.map((row) => row.id);
}

/**
 * A task as `owner` may see it (null: the admin); another tenant's task is not found, and so is a
 * task of a job removed by retention (task ids are not kept).
 */
export function findOwnedTask(sql: Sql, id: string, owner: string | null): TaskRow | null {
  return sql.row(
    TaskRow,
    `SELECT * FROM tasks WHERE id = ? AND (? IS NULL OR tenant_id = ?) AND ${notRemoved('tasks.job_id')}`,
    id,
    owner,
    owner,
  );
}

/** A task of a tenant's pipeline job (a dataflow job's pipeline stages are that job's tasks). */
export function findPipelineTask(
  sql: Sql,
  id: string,
  tenantId: string,
  pipelineId: string,
): TaskRow | null {
  return sql.row(
    TaskRow,
    `SELECT * FROM tasks WHERE id = ? AND tenant_id = ? AND pipeline_id = ? AND stage IS NULL
       AND ${notRemoved('tasks.job_id')}`,
    id,
    tenantId,
    pipelineId,
  );
}

/** A job's tasks counted by state; an assigned task counts as running. */
export function taskCounts(sql: Sql, jobId: string): TaskCounts {
  const counts: TaskCounts = { queued: 0, running: 0, succeeded: 0, failed: 0, cancelled: 0 };
  const rows = sql.rows(
    z.object({ state: TaskState, n: z.number().int() }),
    `SELECT state, count(*) AS n FROM tasks WHERE job_id = ? GROUP BY state`,
    jobId,
  );
  for (const { state, n } of rows) addCount(counts, state, n);
  return counts;
}

/** Counts `n` tasks in `state` into a view's counts, where an assigned task is running. */
export function addCount(counts: TaskCounts, state: TaskState, n: number): void {
  counts[state === 'assigned' ? 'running' : state] += n;
}

/** How many tasks wait in the queue, over the whole cluster. */
export function queuedTaskCount(sql: Sql): number {
  return sql.row(Count, `SELECT count(*) AS n FROM tasks WHERE state = 'queued'`)?.n ?? 0;
}

/** The root cause of a job's failure: the error of its first task that failed, before any sibling
 *  it got cancelled (of one stage, with `stage`); null when none did. */
export function firstFailure(sql: Sql, jobId: string, stage: number | null = null): string | null {
  return (
    sql.row(
      z.object({ error: z.string().nullable() }),
      `SELECT error FROM tasks WHERE job_id = ? AND state IN ('failed','cancelled')
         AND (? IS NULL OR stage = ?)
       ORDER BY state = 'failed' DESC, finished_at, seq LIMIT 1`,
      jobId,
      stage,
      stage,
    )?.error ?? null
  );
}

/** The results (JSON text) of a job's tasks of one kind that succeeded, in index order. */
export function succeededResults(sql: Sql, jobId: string, kind: string): string[] {
  return sql
    .rows(
      z.object({ result: z.string().nullable() }),
      `SELECT result FROM tasks WHERE job_id = ? AND kind = ? AND state = 'succeeded' ORDER BY idx`,
      jobId,
      kind,
    )
    .flatMap((row) => (row.result === null ? [] : [row.result]));
}

/** The jobs with unfinished tasks of a pipeline. */
export function liveJobsOfPipeline(sql: Sql, pipelineId: string): string[] {
  return sql
    .rows(
      z.object({ id: z.string() }),
      `SELECT DISTINCT job_id AS id FROM tasks
       WHERE pipeline_id = ? AND state IN ('queued','assigned','running')`,
      pipelineId,
    )
    .map((row) => row.id);
}

/** The maps of an aggregation: their state, result and last progress (JSON text). */
export function aggregateMaps(
  sql: Sql,
  jobId: string,
): { state: TaskState; result: string | null; progress: string | null }[] {
  return sql.rows(
    z.object({ state: TaskState, result: z.string().nullable(), progress: z.string().nullable() }),
    `SELECT state, result, progress FROM tasks WHERE job_id = ? AND kind = 'aggregate-map'`,
    jobId,
  );
}

/** A job's tasks whose result or spec holds inline outputs. */
export function tasksWithInline(
  sql: Sql,
  jobId: string,
): { id: string; result: string | null; spec: string | null }[] {
  return sql.rows(
    z.object({ id: z.string(), result: z.string().nullable(), spec: z.string().nullable() }),
    `SELECT id, result, spec FROM tasks
     WHERE job_id = ? AND (result LIKE '%"inline":%' OR spec LIKE '%"inline":[%')`,
    jobId,
  );
}

/** Rewrites an ended task's result and spec. */
export function rewriteResultAndSpec(
  sql: Sql,
  id: string,
  result: string | null,
  spec: string | null,
): void {
  sql.run(`UPDATE tasks SET result = ?, spec = ? WHERE id = ?`, result, spec, id);
}

/**
 * Whether an aggregation may have left objects no result names: false only when every map and
 * reduce ran once, succeeded and handed all its outputs back inline.
 */
export function mayHaveIntermediates(sql: Sql, jobId: string): boolean {
  const written = sql.row(
    z.object({ found: z.number() }),
    `SELECT 1 AS found FROM tasks
     WHERE job_id = ? AND kind IN ('aggregate-map', 'aggregate-reduce')
       AND (state != 'succeeded' OR attempt != 1 OR result IS NULL OR result LIKE '%"key":%')
     LIMIT 1`,
    jobId,
  );
  return written !== null;
}

/** The ids of a job's tasks of one kind. */
export function taskIdsOfKind(sql: Sql, jobId: string, kind: string): string[] {
  return sql
    .rows(
      z.object({ id: z.string() }),
      `SELECT id FROM tasks WHERE job_id = ? AND kind = ?`,
      jobId,
      kind,
    )
    .map((task) => task.id);
}

/** The specs (JSON text) and workers of a job's maps that succeeded. */
export function succeededMaps(sql: Sql, jobId: string): { spec: string; worker_id: string }[] {
  return sql.rows(
    z.object({ spec: z.string(), worker_id: z.string() }),
    `SELECT spec, worker_id FROM tasks
     WHERE job_id = ? AND kind = 'aggregate-map' AND state = 'succeeded' AND worker_id IS NOT NULL`,
    jobId,
  );
}
