/** The history of a task: one row per ended attempt, so a failure and a lost agent read apart. */
import type { AttemptCounts, AttemptOutcome, AttemptView } from '../protocol/index.ts';
import type { Sql } from './sql.ts';
import { iso, isoOrNull } from './rows.ts';

/** What an attempt's end is recorded from: the task row as it stood while the attempt was live. */
export interface LiveAttempt {
  id: string;
  attempt: number;
  job_id: string;
  worker_id: string | null;
  assigned_at: number | null;
  started_at: number | null;
}

export function recordAttempt(
  sql: Sql,
  live: LiveAttempt,
  end: { outcome: AttemptOutcome; error?: string | null; exitCode?: number | null; now: number },
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
    end.error ?? null,
    end.exitCode ?? null,
    live.assigned_at,
    live.started_at,
    end.now,
  );
}

interface AttemptRow {
  attempt: number;
  worker_id: string | null;
  outcome: AttemptOutcome;
  error: string | null;
  exit_code: number | null;
  assigned_at: number | null;
  started_at: number | null;
  finished_at: number;
}

export function attemptHistory(sql: Sql, taskId: string): AttemptView[] {
  return sql
    .all<AttemptRow>(`SELECT * FROM task_attempts WHERE task_id = ? ORDER BY attempt`, taskId)
    .map((row) => ({
      attempt: row.attempt,
      workerId: row.worker_id,
      outcome: row.outcome,
      error: row.error,
      exitCode: row.exit_code,
      assignedAt: isoOrNull(row.assigned_at),
      startedAt: isoOrNull(row.started_at),
      finishedAt: iso(row.finished_at),
    }));
}

/** How the ended attempts of a job's tasks ended, counted by outcome. */
export function attemptCounts(sql: Sql, jobId: string): AttemptCounts {
  const counts: AttemptCounts = { succeeded: 0, failed: 0, timed_out: 0, lost: 0, cancelled: 0 };
  const rows = sql.all<{ outcome: AttemptOutcome; n: number }>(
    `SELECT outcome, count(*) AS n FROM task_attempts WHERE job_id = ? GROUP BY outcome`,
    jobId,
  );
  for (const { outcome, n } of rows) counts[outcome] = n;
  return counts;
}
