/** Queries on `dataflow_stages` and on the tasks of a dataflow job, counted and read by stage. */
import { z } from 'zod';
import { StageState, TaskState, type TaskCounts } from '../../protocol/index.ts';
import { addCount } from './tasks.ts';
import type { Sql } from './sql.ts';
import type { StageTally } from '../dataflow-plan.ts';

export const StageRow = z.object({
  idx: z.number().int(),
  state: StageState,
  error: z.string().nullable(),
  started_at: z.number().nullable(),
  finished_at: z.number().nullable(),
});
export type StageRow = z.infer<typeof StageRow>;

/** Adds a job's stages, all waiting. */
export function insertStages(sql: Sql, jobId: string, count: number): void {
  for (let idx = 0; idx < count; idx++)
    sql.run(
      `INSERT INTO dataflow_stages (job_id, idx, state) VALUES (?, ?, 'waiting')`,
      jobId,
      idx,
    );
}

export function stageRows(sql: Sql, jobId: string): StageRow[] {
  return sql.rows(
    StageRow,
    `SELECT idx, state, error, started_at, finished_at FROM dataflow_stages
     WHERE job_id = ? ORDER BY idx`,
    jobId,
  );
}

/**
 * Moves a stage on, fenced by the state it was read in: a stage that has moved since is left as
 * it is (returns false).
 */
export function moveStage(
  sql: Sql,
  jobId: string,
  idx: number,
  from: StageState,
  to: StageState,
  error: string | null,
  now: number,
): boolean {
  return (
    sql.run(
      `UPDATE dataflow_stages
       SET state = ?, error = ?,
           started_at = CASE WHEN ? = 'running' THEN ? ELSE started_at END,
           finished_at = CASE WHEN ? = 'running' THEN NULL ELSE ? END
       WHERE job_id = ? AND idx = ? AND state = ?`,
      to,
      error,
      to,
      now,
      to,
      now,
      jobId,
      idx,
      from,
    ) > 0
  );
}

/** Each stage's state, by index, read as one row: a step reads them at every task's end. */
export function stageStates(sql: Sql, jobId: string): StageState[] {
  const joined = sql.row(
    z.object({ states: z.string().nullable() }),
    `SELECT group_concat(state, ',') AS states
     FROM (SELECT state FROM dataflow_stages WHERE job_id = ? ORDER BY idx)`,
    jobId,
  )?.states;
  return joined ? z.array(StageState).parse(joined.split(',')) : [];
}

/** The tasks of the job's running stages so far, by stage: all, and ended by how. */
export function runningTallies(sql: Sql, jobId: string): Map<number, StageTally> {
  const rows = sql.rows(
    z.object({
      stage: z.number().int(),
      total: z.number().int(),
      succeeded: z.number().int(),
      failed: z.number().int(),
      cancelled: z.number().int(),
    }),
    `SELECT stage, count(*) AS total, sum(state = 'succeeded') AS succeeded,
       sum(state = 'failed') AS failed, sum(state = 'cancelled') AS cancelled
     FROM tasks WHERE job_id = ?
       AND stage IN (SELECT idx FROM dataflow_stages WHERE job_id = ? AND state = 'running')
     GROUP BY stage`,
    jobId,
    jobId,
  );
  return new Map(rows.map(({ stage, ...tally }) => [stage, tally]));
}

/** A job's tasks counted by stage and state; stages with no tasks yet are absent. */
export function stageTaskCounts(sql: Sql, jobId: string): Map<number, TaskCounts> {
  const rows = sql.rows(
    z.object({ stage: z.number().int(), state: TaskState, n: z.number().int() }),
    `SELECT stage, state, count(*) AS n FROM tasks
     WHERE job_id = ? AND stage IS NOT NULL GROUP BY stage, state`,
    jobId,
  );
  const counts = new Map<number, TaskCounts>();
  for (const { stage, state, n } of rows) {
    const c = counts.get(stage) ?? { queued: 0, running: 0, succeeded: 0, failed: 0, cancelled: 0 };
    addCount(c, state, n);
    counts.set(stage, c);
  }
  return counts;
}

/** The results (JSON text, or null) of some stages' succeeded tasks, by stage and instance. */
export function stageResults(
  sql: Sql,
  jobId: string,
  stages: readonly number[],
): { stage: number; result: string | null }[] {
  return sql.rows(
    z.object({ stage: z.number().int(), result: z.string().nullable() }),
    `SELECT stage, result FROM tasks
     WHERE job_id = ? AND stage IN (SELECT value FROM json_each(?)) AND state = 'succeeded'
     ORDER BY idx`,
    jobId,
    JSON.stringify(stages),
  );
}

/** The succeeded instances of some stages: each one's instance and the attempt that succeeded. */
export function succeededInstances(
  sql: Sql,
  jobId: string,
  stages: readonly number[],
): { stage: number; instance: number; attempt: number }[] {
  return sql.rows(
    z.object({ stage: z.number().int(), instance: z.number().int(), attempt: z.number().int() }),
    `SELECT stage, json_extract(spec, '$.instance') AS instance, attempt FROM tasks
     WHERE job_id = ? AND stage IN (SELECT value FROM json_each(?)) AND state = 'succeeded'
     ORDER BY idx`,
    jobId,
    JSON.stringify(stages),
  );
}
