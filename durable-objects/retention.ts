/**
 * Retention, run beside the alarm (docs/storage.md): a sweep hides the finished jobs past their
 * retention or past the cap behind tombstones, in one short transaction; their rows then go a
 * bounded batch per transaction, yielding to sockets and requests between batches; their result
 * folders go from their stores last, retried while a store is down. Every step's state is in
 * SQLite, so a restart picks up where it stopped.
 */
import type { Core } from './core.ts';
import type { Sql } from './db/sql.ts';
import { findStore } from './db/object-stores.ts';
import { deleteUnder } from './storage/s3.ts';
import { resultCacheKey } from './result-cache.ts';
import {
  capCheckAt,
  nextRetentionWake,
  objectRetryMs,
  ownResultFolder,
  planSweep,
  REMOVAL_ORDER,
  type ResultFolder,
} from './retention-plan.ts';
import {
  countFinished,
  expiredJobs,
  jobOutput,
  lastFinishedAt,
  nextExpiryAt,
  oldestFinished,
} from './db/retention.ts';
import { capCheckedAt, markCapChecked } from './db/meta.ts';
import {
  dropTombstones,
  hasPendingRemovals,
  insertTombstone,
  markRemoved,
  pendingRemovals,
} from './db/removed-jobs.ts';
import { deleteJobRow, deleteSome } from './db/job-rows-removal.ts';
import {
  deleteObjectRemoval,
  insertObjectRemoval,
  nextObjectRemovalAt,
  rescheduleObjectRemoval,
  takeDueObjectRemovals,
} from './db/object-removals.ts';

/**
 * How long one run keeps deleting, a transaction at a time with a yield between them; the alarm
 * comes back for what is left. Not a count of transactions: under load the yields are long, and a
 * run that stopped after a few transactions fell behind the jobs finishing (bench:soak).
 */
const RUN_MS = 2_000;
/** Result folders worked on in one run, and objects deleted from each. */
const FOLDERS_PER_RUN = 4;
const OBJECTS_PER_FOLDER = 200;
/** A run holds its folders this long, so the alarm does not come back for them while it works. */
const HOLD_MS = 60_000;

export async function runRetention(core: Core): Promise<void> {
  const until = core.now() + RUN_MS;
  // Each sweep hides one batch of jobs; once their rows are gone, the next may be due at once.
  do sweep(core);
  while ((await deleteRemovedRows(core, until)) && core.now() < until);
  await deleteResultFolders(core);
}

/** When the alarm must come back for retention, or null. */
export function nextRetentionAt(core: Core): number | null {
  const { sql, config } = core;
  return nextRetentionWake({
    now: core.now(),
    pendingRemovals: hasPendingRemovals(sql),
    objectsDueAt: nextObjectRemovalAt(sql),
    nextExpiryAt: nextExpiryAt(sql, config.retentionMs),
    capCheckAt: capCheckAt(lastFinishedAt(sql), capCheckedAt(sql), config.capCheckMs),
  });
}

/**
 * Tombstones the jobs due for removal, at most one batch of them, and drops old tombstones. One
 * batch at a time: while removed jobs' rows remain, no more are tombstoned, so the jobs hidden but
 * not yet deleted stay few (db/retention.ts skips them in every query).
 */
function sweep(core: Core): void {
  const { sql, config } = core;
  const now = core.now();
  if (hasPendingRemovals(sql)) return;
  const expiryDue = (nextExpiryAt(sql, config.retentionMs) ?? Infinity) <= now;
  const capDue =
    (capCheckAt(lastFinishedAt(sql), capCheckedAt(sql), config.capCheckMs) ?? Infinity) <= now;
  if (!expiryDue && !capDue) return;
  const limit = config.retentionBatchRows;
  const outputs: { id: string; output: ResultFolder }[] = [];
  sql.transaction(() => {
    const expired = expiryDue ? expiredJobs(sql, now, config.retentionMs, limit) : [];
    const finished = capDue ? countFinished(sql) : 0;
    const excess = Math.max(0, finished - config.maxFinishedJobs);
    const oldest = excess > 0 ? oldestFinished(sql, Math.min(excess + expired.length, limit)) : [];
    const chosen = planSweep({
      expired,
      oldest,
      finished,
      maxFinished: config.maxFinishedJobs,
      limit,
    });
    // An excess over one batch stays due: the next sweep, once this batch is gone, takes more,
    // even if no job ends meanwhile (as after TM_MAX_FINISHED_JOBS is lowered).
    if (capDue && finished - chosen.length <= config.maxFinishedJobs) markCapChecked(sql, now);
    for (const { job, reason } of chosen) {
      const output = jobOutput(sql, job.id);
      insertTombstone(sql, job, reason, now);
      if (!output) continue;
      outputs.push({ id: job.id, output });
      const own = ownResultFolder(job.id, output);
      if (own) insertObjectRemoval(sql, job.id, own.store, own.base, now);
    }
    dropTombstones(sql, now - config.retentionMs, config.maxFinishedJobs);
  });
  for (const { id, output } of outputs)
    core.results.forget(resultCacheKey(output.store, `${output.base}result-${id}.`));
}

/**
 * Deletes removed jobs' rows, `retentionBatchRows` per transaction, yielding between them, until
 * none are left or `until`; true when it deleted rows and none are left (a sweep may find more).
 */
async function deleteRemovedRows(core: Core, until: number): Promise<boolean> {
  const { sql, config } = core;
  for (let batch = 0; ; batch++) {
    const ids = pendingRemovals(sql, config.retentionBatchRows);
    if (ids.length === 0) return batch > 0;
    if (core.now() >= until) return false;
    sql.transaction(() => {
      let budget = config.retentionBatchRows;
      for (const id of ids) {
        budget = deleteSomeRows(sql, id, budget);
        if (budget === 0) return;
      }
    });
    // Frames and requests waiting on the object go first: a removal never delays a heartbeat.
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
}

/** Deletes up to `budget` of the job's rows, and the job itself once nothing else is left; returns the budget left. */
function deleteSomeRows(sql: Sql, jobId: string, budget: number): number {
  let left = budget;
  for (const table of REMOVAL_ORDER) {
    left -= deleteSome(sql, table, jobId, left);
    if (left === 0) return 0;
  }
  deleteJobRow(sql, jobId);
  markRemoved(sql, jobId);
  return left - 1;
}

/** Deletes a batch of each due result folder; a store that fails is tried again later, never dropped. */
async function deleteResultFolders(core: Core): Promise<void> {
  const { sql } = core;
  const now = core.now();
  for (const row of takeDueObjectRemovals(sql, now, FOLDERS_PER_RUN, now + HOLD_MS)) {
    const store = findStore(sql, row.store_id);
    if (!store) {
      // Its store was deleted: nothing is left that could reach the objects.
      deleteObjectRemoval(sql, row.job_id);
      continue;
    }
    try {
      const { more } = await deleteUnder(store, row.prefix, () => true, OBJECTS_PER_FOLDER);
      if (more) rescheduleObjectRemoval(sql, row.job_id, 0, core.now());
      else deleteObjectRemoval(sql, row.job_id);
    } catch (error) {
      rescheduleObjectRemoval(
        sql,
        row.job_id,
        row.failures + 1,
        core.now() + objectRetryMs(row.failures),
      );
      // A store's errors never name its keys (storage/s3.ts); the log scrubs them all the same.
      core
        .log('retention', [store.secret_access_key, store.session_token])
        .warn("deleting a removed job's results failed; retrying later", {
          job: row.job_id,
          store: store.name,
          error,
        });
    }
  }
}
