/**
 * What the alarm does, and when it must run next: agents past their lease lose their tasks,
 * tasks of jobs with a lease of their own move when their agent is silent that long, attempts
 * past their deadline fail, jobs past theirs are stopped, and tasks whose backoff ran out go.
 * Sockets that never said hello are closed (their deadlines are in the sockets' attachments).
 * (Ended aggregations' intermediates are deleted by the alarm too: aggregate-cleanup.ts.)
 */
import type { Core } from './core.ts';
import { commit } from './core.ts';
import type { Sql } from './db/sql.ts';
import { newEffects, tellAgentsToStop, type Effects } from './effects.ts';
import { lapsedWorkers } from './db/workers.ts';
import { closeSocketsWithoutHello, expireLeases } from './agent-session.ts';
import { cancelJobTasks, failAttempt } from './task-lifecycle.ts';
import { loseAttempts } from './task-losses.ts';
import { countOne, LEASE_EXPIRIES } from './metric-tally.ts';
import { overdueAttempts, silentAttempts } from './db/attempts.ts';
import { nextJobDeadline, overdueJobs, setFailedJobError } from './db/jobs.ts';
import { failJob, recordTaskEnds } from './job-settlement.ts';
import { nextCleanupAt } from './db/cleanups.ts';
import { agentLeaseDue, attemptDeadlineDue, backoffDue, jobLeaseDue } from './db/due-times.ts';

export function runTimers(core: Core): void {
  const { sql } = core;
  const now = core.now();
  expireLeases(core, lapsedWorkers(sql, now - core.config.leaseMs));
  closeSocketsWithoutHello(core);
  const effects = newEffects();
  sql.transaction(() => {
    expireSilentAttempts(sql, effects, now);
    expireOverdueAttempts(sql, effects, now);
    recordTaskEnds(sql, effects, now);
    expireJobs(sql, effects, now);
  });
  // Backoffs that ran out leave tasks ready to place.
  effects.dispatch = true;
  commit(core, effects);
}

function expireSilentAttempts(sql: Sql, effects: Effects, now: number): void {
  const rows = silentAttempts(sql, now);
  const reason = "its agent was silent for longer than the job's lease";
  const lost = loseAttempts(sql, effects, rows, { reason, counted: true, now });
  if (lost.length > 0) countOne(sql, LEASE_EXPIRIES, { lease: 'job' }, lost.length);
  tellAgentsToStop(sql, effects, rows, reason);
}

function expireOverdueAttempts(sql: Sql, effects: Effects, now: number): void {
  const rows = overdueAttempts(sql, now);
  for (const row of rows) {
    failAttempt(sql, effects, row, {
      outcome: 'timed_out',
      error: `timed out: no result from its agent within ${(row.task_timeout_ms ?? 0) / 1000} s`,
      exitCode: null,
      nonRetryable: false,
      now,
    });
  }
  tellAgentsToStop(sql, effects, rows, 'timed out');
}

function expireJobs(sql: Sql, effects: Effects, now: number): void {
  const jobs = overdueJobs(sql, now);
  for (const job of jobs) {
    const reason = `job timed out after ${(job.deadline_at - job.created_at) / 1000} s`;
    const from = effects.endedTasks.length;
    if (cancelJobTasks(sql, effects, job.id, now, reason) === 0) {
      failJob(sql, effects, job.id, reason, now);
      continue;
    }
    recordTaskEnds(sql, effects, now, from);
    setFailedJobError(sql, job.id, reason);
  }
}

/** The earliest moment something above comes due, or null when nothing is pending. */
export function nextWake(sql: Sql, leaseMs: number, now: number): number | null {
  const candidates = [
    agentLeaseDue(sql, leaseMs),
    jobLeaseDue(sql),
    attemptDeadlineDue(sql),
    // A backoff already over waits for capacity, which dispatches by itself when it frees.
    backoffDue(sql, now),
    nextJobDeadline(sql),
    nextCleanupAt(sql),
  ].filter((value): value is number => value !== null);
  return candidates.length > 0 ? Math.min(...candidates) : null;
}
