/**
 * Queries on `task_attempts`: one row per ended attempt. The attempt that succeeded is not stored
 * there: the task row already is its record.
 */
import { z } from 'zod';
import { AttemptOutcome } from '../../protocol/index.ts';
import type { LiveAttempt } from './attempts.ts';
import type { Sql } from './sql.ts';

export const AttemptRow = z.object({
  attempt: z.number().int(),
  worker_id: z.string().nullable(),
  outcome: AttemptOutcome,
  error: z.string().nullable(),
  exit_code: z.number().int().nullable(),
  assigned_at: z.number().nullable(),
  started_at: z.number().nullable(),
  finished_at: z.number(),
});
export type AttemptRow = z.infer<typeof AttemptRow>;

/** Records an attempt's end, once: a second record of the same attempt is ignored. */
export function insertAttempt(
  sql: Sql,
  live: LiveAttempt,
  end: { outcome: AttemptOutcome; error: string | null; exitCode: number | null; now: number },
): void {
  sql.run(
    `INSERT OR IGNORE INTO task_attempts
       (task_id, attempt, job_id, worker_id, outcome, error, exit_code, assigned_at, started_at,
        finished_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    live.id,
    live.attempt,
    live.job_id,
    live.worker_id,
    end.outcome,
    end.error,
    end.exitCode,
    live.assigned_at,
    live.started_at,
    end.now,
  );
}

/** A task's ended attempts, oldest first. */
export function attemptsOfTask(sql: Sql, taskId: string): AttemptRow[] {
  return sql.rows(
    AttemptRow,
    `SELECT * FROM task_attempts WHERE task_id = ? ORDER BY attempt`,
    taskId,
  );
}

/** How the ended attempts of a job's tasks ended, counted by outcome. */
export function outcomeCounts(sql: Sql, jobId: string): { outcome: AttemptOutcome; n: number }[] {
  return sql.rows(
    z.object({ outcome: AttemptOutcome, n: z.number().int() }),
    `SELECT outcome, count(*) AS n FROM task_attempts WHERE job_id = ? GROUP BY outcome`,
    jobId,
  );
}

/**
 * Who holds a task's attempt: the task's current worker and attempt, and the worker of that
 * attempt if it has ended; null for an unknown task.
 */
export function attemptHolders(
  sql: Sql,
  taskId: string,
  attempt: number,
): { current: string | null; attempt: number; past: string | null } | null {
  return sql.row(
    z.object({
      current: z.string().nullable(),
      attempt: z.number().int(),
      past: z.string().nullable(),
    }),
    `SELECT t.worker_id AS current, t.attempt, a.worker_id AS past
     FROM tasks t LEFT JOIN task_attempts a ON a.task_id = t.id AND a.attempt = ?
     WHERE t.id = ?`,
    attempt,
    taskId,
  );
}
