/**
 * Reports an agent sent that were not applied, told apart: an attempt of its own that is no
 * longer live (late or duplicate: ignored, as the protocol allows) or an attempt that was never
 * its worker's (a claim on another worker's task: refused and logged).
 */
import type { TaskRef } from '../protocol/index.ts';
import type { Sql } from './db/sql.ts';
import { attemptHolders } from './db/attempt-history.ts';

/**
 * Of the refs a worker's frame named and the Scheduler did not apply, those whose attempt belongs
 * to another worker: the task's current attempt held by another, or an ended attempt of another.
 * Unknown tasks and attempts are not claims on anyone's work.
 */
export function foreignClaims(sql: Sql, workerId: string, ignored: readonly TaskRef[]): TaskRef[] {
  return ignored.filter((ref) => {
    const row = attemptHolders(sql, ref.taskId, ref.attempt);
    if (!row) return false;
    const holder = row.past ?? (row.attempt === ref.attempt ? row.current : null);
    return holder !== null && holder !== workerId;
  });
}

/** One log line for a refused claim: the worker and the tasks, nothing the agent sent besides. */
export function describeClaims(frameType: string, workerId: string, refs: readonly TaskRef[]) {
  const shown = refs
    .slice(0, 5)
    .map((ref) => `${ref.taskId}#${ref.attempt}`)
    .join(', ');
  const more = refs.length > 5 ? ` and ${refs.length - 5} more` : '';
  return `worker ${workerId} sent a ${frameType} frame for ${refs.length} task attempt(s) of other workers: ${shown}${more}`;
}
