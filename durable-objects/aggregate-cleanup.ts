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
import { mayHaveIntermediates, taskIdsOfKind } from './db/tasks.ts';
import { deleteCleanup, dueCleanups, insertCleanup, rescheduleCleanup } from './db/cleanups.ts';
import { findStore } from './db/object-stores.ts';
import { deleteUnder } from './storage/s3.ts';
import { AggregateJobSpec } from './aggregate-store.ts';
import { parseJsonColumn } from './db/json-column.ts';

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
  insertCleanup(sql, jobId, now);
  wakeAt(effects, now);
}

/** Deletes a batch of each due job's intermediates; keeps a job that has more, or failed, for later. */
export async function runCleanups(core: Core): Promise<void> {
  const { sql } = core;
  const due = dueCleanups(sql, core.now(), JOBS_PER_ALARM);
  for (const { job_id: jobId } of due) rescheduleCleanup(sql, jobId, core.now() + HOLD_MS);
  for (const { job_id: jobId, failures } of due) {
    try {
      if (await cleanBatch(sql, jobId)) rescheduleCleanup(sql, jobId, core.now(), 0);
      else deleteCleanup(sql, jobId);
    } catch (error) {
      if (failures + 1 >= MAX_FAILURES) {
        deleteCleanup(sql, jobId);
        core
          .log('cleanup')
          .warn("giving up deleting the job's intermediates", { job: jobId, error });
        continue;
      }
      rescheduleCleanup(sql, jobId, core.now() + RETRY_MS * 2 ** failures, failures + 1);
    }
  }
}

/** Deletes one batch of the job's intermediates; true when more remain. */
async function cleanBatch(sql: Sql, jobId: string): Promise<boolean> {
  const job = findJob(sql, jobId);
  if (job?.kind !== 'aggregate') return false;
  const { output } = parseJsonColumn(AggregateJobSpec, job.spec, 'jobs.spec');
  const store = findStore(sql, output.store);
  if (!store) return false;
  // Only the job's own names, its tasks' folders: an output prefix a user chose may hold others.
  const ownFolders = (kind: string) => {
    const ids = new Set(taskIdsOfKind(sql, jobId, kind));
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
