/**
 * The 404 of a job that cannot be read: removed by retention (`job_removed`, with when), or
 * `not_found`. A tenant learns of its own removed jobs only; another tenant's is just not found.
 */
import type { Sql } from './db/sql.ts';
import { notFound, SchedulerError } from './failure.ts';
import { findTombstone } from './db/removed-jobs.ts';

export function jobMissing(sql: Sql, id: string, owner: string | null): SchedulerError {
  const tombstone = findTombstone(sql, id, owner);
  if (!tombstone) return notFound('job', id);
  const removedAt = new Date(tombstone.removed_at).toISOString();
  const why =
    tombstone.reason === 'cap'
      ? 'the cluster keeps at most TM_MAX_FINISHED_JOBS finished jobs, the newest'
      : 'it ended longer ago than its retention';
  return new SchedulerError({
    status: 404,
    code: 'job_removed',
    message: `job ${id} was removed by retention at ${removedAt} (${why})`,
    details: { removedAt, reason: tombstone.reason },
  });
}
