/**
 * Once an aggregation ends, its intermediates go: the map partials (failed attempts' too) and the
 * reduce outputs, from its output store; the result stays. The alarm deletes them a batch at a
 * time, after the transaction that ended the job (never before: a retried final step still reads
 * the reduce outputs), and tries again later while the store is down.
 */
import type { Core } from './core.ts';
import type { Sql } from './db/sql.ts';
import { wakeAt, type Effects } from './effects.ts';
import { findJob } from './db/jobs.ts';
import { findStore } from './object-stores.ts';
import { deleteUnder } from './storage/s3.ts';
import type { AggregateJobSpec } from './aggregate-store.ts';

/** Objects deleted per prefix and job in one alarm. */
const BATCH = 200;
/** Jobs cleaned in one alarm. */
const JOBS_PER_ALARM = 4;
/** A store that fails this many times in a row is given up on (its objects stay). */
const MAX_FAILURES = 8;
const RETRY_MS = 5_000;
/** A run holds its jobs this long, so the alarm does not come back for them while it works. */
const HOLD_MS = 60_000;

/**
 * Asks for the job's intermediates to be deleted (inside the transaction that ends it), unless it
 * cannot have written any: then the store is not listed at all, which would otherwise compete with
 * the client's first read of the result.
 */
export function scheduleCleanup(sql: Sql, effects: Effects, jobId: string, now: number): void {
  if (!mayHaveIntermediates(sql, jobId)) return;
  sql.run(
    `INSERT INTO cleanups (job_id, next_at) VALUES (?, ?) ON CONFLICT DO NOTHING`,
    jobId,
    now,
  );
  wakeAt(effects, now);
}

/**
 * False only when every map and reduce ran once, succeeded and handed all its outputs back inline:
 * an attempt that failed, was lost or ran again may have written objects no result names.
 */
export function mayHaveIntermediates(sql: Sql, jobId: string): boolean {
  const written = sql.first(
    `SELECT 1 AS found FROM tasks
     WHERE job_id = ? AND kind IN ('aggregate-map', 'aggregate-reduce')
       AND (state != 'succeeded' OR attempt != 1 OR result IS NULL OR result LIKE '%"key":%')
     LIMIT 1`,
    jobId,
  );
  return written !== null;
}

/** When the next cleanup is due, or null. */
export function nextCleanupAt(sql: Sql): number | null {
  return sql.first<{ at: number | null }>(`SELECT min(next_at) AS at FROM cleanups`)?.at ?? null;
}

/** Deletes a batch of each due job's intermediates; keeps a job that has more, or failed, for later. */
export async function runCleanups(core: Core): Promise<void> {
  const { sql } = core;
  const due = sql.all<{ job_id: string; failures: number }>(
    `SELECT job_id, failures FROM cleanups WHERE next_at <= ? ORDER BY next_at LIMIT ?`,
    core.now(),
    JOBS_PER_ALARM,
  );
  for (const { job_id: jobId } of due)
    sql.run(`UPDATE cleanups SET next_at = ? WHERE job_id = ?`, core.now() + HOLD_MS, jobId);
  for (const { job_id: jobId, failures } of due) {
    try {
      if (await cleanBatch(sql, jobId))
        sql.run(
          `UPDATE cleanups SET failures = 0, next_at = ? WHERE job_id = ?`,
          core.now(),
          jobId,
        );
      else sql.run(`DELETE FROM cleanups WHERE job_id = ?`, jobId);
    } catch (error) {
      if (failures + 1 >= MAX_FAILURES) {
        sql.run(`DELETE FROM cleanups WHERE job_id = ?`, jobId);
        console.warn(`tm: giving up deleting job ${jobId}'s intermediates: ${String(error)}`);
        continue;
      }
      sql.run(
        `UPDATE cleanups SET failures = ?, next_at = ? WHERE job_id = ?`,
        failures + 1,
        core.now() + RETRY_MS * 2 ** failures,
        jobId,
      );
    }
  }
}

/** Deletes one batch of the job's intermediates; true when more remain. */
async function cleanBatch(sql: Sql, jobId: string): Promise<boolean> {
  const job = findJob(sql, jobId);
  if (job?.kind !== 'aggregate') return false;
  const { output } = JSON.parse(job.spec) as AggregateJobSpec;
  const store = findStore(sql, output.store);
  if (!store) return false;
  // Only the job's own names, its tasks' folders: an output prefix a user chose may hold others.
  const ownFolders = (kind: string) => {
    const ids = new Set(
      sql
        .all<{ id: string }>(`SELECT id FROM tasks WHERE job_id = ? AND kind = ?`, jobId, kind)
        .map((task) => task.id),
    );
    return (name: string) => ids.has(name.split('/')[0] ?? '');
  };
  const mapped = await deleteUnder(store, `${output.base}map/`, ownFolders('aggregate-map'), BATCH);
  const reduced = await deleteUnder(
    store,
    `${output.base}reduce/`,
    ownFolders('aggregate-reduce'),
    BATCH,
  );
  return mapped.more || reduced.more;
}
