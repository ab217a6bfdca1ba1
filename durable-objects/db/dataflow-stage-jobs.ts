/**
 * Dataflow stages that run a job of their own (aggregate stages): each stage holds one task of
 * its job's, a hold that no agent runs, which ends as the stage's job ends; and the job it
 * launched. The fence is the hold's state: only a queued hold is ended.
 */
import { z } from 'zod';
import type { Sql } from './sql.ts';
import type { JobState } from '../../protocol/index.ts';

/** The pin of a stage's hold: no worker has this id, so dispatch never places it. */
export const STAGE_JOB_HOLD = 'stage-job';

const Hold = z.object({ job_id: z.string(), stage: z.number().int() });
export type StageHold = z.infer<typeof Hold>;

export function recordStageJob(sql: Sql, hold: StageHold, childId: string): void {
  sql.run(
    `INSERT INTO dataflow_stage_jobs (job_id, stage, child_id) VALUES (?, ?, ?)`,
    hold.job_id,
    hold.stage,
    childId,
  );
}

/** Whether the stage has launched its job. */
export function hasStageJob(sql: Sql, hold: StageHold): boolean {
  return (
    sql.row(
      z.object({ n: z.number() }),
      `SELECT count(*) AS n FROM dataflow_stage_jobs WHERE job_id = ? AND stage = ?`,
      hold.job_id,
      hold.stage,
    )?.n === 1
  );
}

/** The jobs a dataflow job's stages launched, by stage. */
export function stageJobsOf(sql: Sql, jobId: string): Map<number, string> {
  const rows = sql.rows(
    z.object({ stage: z.number().int(), child_id: z.string() }),
    `SELECT stage, child_id FROM dataflow_stage_jobs WHERE job_id = ?`,
    jobId,
  );
  return new Map(rows.map((row) => [row.stage, row.child_id]));
}

/** The stage whose job `childId` is, if it is one's. */
export function stageOfChild(sql: Sql, childId: string): StageHold | null {
  return sql.row(Hold, `SELECT job_id, stage FROM dataflow_stage_jobs WHERE child_id = ?`, childId);
}

/** Whether the stage's hold still waits for its job. */
export function holdWaiting(sql: Sql, hold: StageHold): boolean {
  return (
    sql.row(
      z.object({ n: z.number() }),
      `SELECT count(*) AS n FROM tasks
       WHERE job_id = ? AND stage = ? AND pinned_worker_id = ? AND state = 'queued'`,
      hold.job_id,
      hold.stage,
      STAGE_JOB_HOLD,
    )?.n === 1
  );
}

/** Holds waiting for a job that is not launched yet (the launch after a restart). */
export function unlaunchedHolds(sql: Sql): StageHold[] {
  return sql.rows(
    Hold,
    `SELECT t.job_id, t.stage FROM tasks t
     WHERE t.pinned_worker_id = ? AND t.state = 'queued' AND NOT EXISTS (
       SELECT 1 FROM dataflow_stage_jobs s WHERE s.job_id = t.job_id AND s.stage = t.stage)`,
    STAGE_JOB_HOLD,
  );
}

/** Jobs launched by `jobId`'s stages that have not ended, and whose holds have. */
export function orphanedStageJobs(sql: Sql, jobId: string): string[] {
  return sql
    .rows(
      z.object({ id: z.string() }),
      `SELECT j.id FROM dataflow_stage_jobs s JOIN jobs j ON j.id = s.child_id
       WHERE s.job_id = ? AND j.state NOT IN ('succeeded','failed','cancelled')
         AND NOT EXISTS (SELECT 1 FROM tasks t WHERE t.job_id = s.job_id AND t.stage = s.stage
                           AND t.pinned_worker_id = ? AND t.state = 'queued')`,
      jobId,
      STAGE_JOB_HOLD,
    )
    .map((row) => row.id);
}

/**
 * Ends a stage's queued hold as its job ended; returns the hold's task id, or null when the hold
 * had ended already (the stage was cancelled first).
 */
export function endHold(
  sql: Sql,
  hold: StageHold,
  end: { state: JobState; result: string | null; error: string | null; now: number },
): string | null {
  return (
    sql.row(
      z.object({ id: z.string() }),
      `UPDATE tasks SET state = ?, result = ?, error = ?, finished_at = ?
       WHERE job_id = ? AND stage = ? AND pinned_worker_id = ? AND state = 'queued'
       RETURNING id`,
      end.state,
      end.result,
      end.error,
      end.now,
      hold.job_id,
      hold.stage,
      STAGE_JOB_HOLD,
    )?.id ?? null
  );
}
