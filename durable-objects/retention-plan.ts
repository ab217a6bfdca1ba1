/**
 * Pure rules of retention (docs/storage.md): how long a job is kept, which finished jobs a sweep
 * removes, in what order a removed job's rows go, and when the alarm must come back for it.
 */
import { INTERNAL_DIR } from './aggregate-plan.ts';

/** A job's own retention, refused when longer than the cluster's: a job may only ask for less. */
export function retentionRefusal(ownMs: number | null, clusterMs: number): string | null {
  if (ownMs === null || ownMs <= clusterMs) return null;
  return `retentionSeconds ${ownMs / 1000} is longer than this cluster keeps finished jobs (${clusterMs / 1000} s, TM_RETENTION_SECONDS)`;
}

/**
 * When retention removes a job that ended at `finishedAt`: after its own retention, or the
 * cluster's if that is shorter (a cluster's retention lowered later applies to every job).
 */
export function removalDueAt(finishedAt: number, ownMs: number | null, clusterMs: number): number {
  return finishedAt + Math.min(ownMs ?? clusterMs, clusterMs);
}

/** A finished job a sweep may remove. */
export interface Candidate {
  id: string;
  tenantId: string | null;
  finishedAt: number;
}

export type RemovalReason = 'retention' | 'cap';

/**
 * The jobs one sweep removes, oldest first: those past their retention, then the oldest others
 * while more than `maxFinished` would be kept; at most `limit` in all. `finished` counts every
 * finished job still kept; `oldest` are the oldest of them, in order, enough to cover the excess.
 */
export function planSweep(input: {
  expired: readonly Candidate[];
  oldest: readonly Candidate[];
  finished: number;
  maxFinished: number;
  limit: number;
}): { job: Candidate; reason: RemovalReason }[] {
  const chosen = new Map<string, { job: Candidate; reason: RemovalReason }>();
  for (const job of input.expired) chosen.set(job.id, { job, reason: 'retention' });
  for (const job of input.oldest) {
    if (input.finished - chosen.size <= input.maxFinished) break;
    if (!chosen.has(job.id)) chosen.set(job.id, { job, reason: 'cap' });
  }
  return [...chosen.values()]
    .sort((a, b) => a.job.finishedAt - b.job.finishedAt)
    .slice(0, input.limit);
}

/**
 * The tables of a removed job's rows, in the order they are deleted: what refers to a task before
 * the task, and the job row last, so that a removal cut short leaves nothing unreachable.
 */
export const REMOVAL_ORDER = ['logs', 'task_attempts', 'tasks'] as const;
export type RemovalTable = (typeof REMOVAL_ORDER)[number];

/**
 * When the cap must be checked next: `capCheckMs` after the last check, once a job has ended since
 * (so a busy cluster does not count its jobs at every alarm, and an idle one never does); or null.
 */
export function capCheckAt(
  lastFinishedAt: number | null,
  capCheckedAt: number | null,
  capCheckMs: number,
): number | null {
  if (lastFinishedAt === null) return null;
  if (capCheckedAt !== null && lastFinishedAt <= capCheckedAt) return null;
  return (capCheckedAt ?? 0) + capCheckMs;
}

/**
 * What the alarm must come back for, or null: removals under way (now), result folders to delete,
 * the next job to expire, the next check of the cap. An idle cluster so wakes once per finished
 * job's expiry, never on a period.
 */
export function nextRetentionWake(input: {
  now: number;
  pendingRemovals: boolean;
  objectsDueAt: number | null;
  nextExpiryAt: number | null;
  capCheckAt: number | null;
}): number | null {
  const candidates = [
    input.pendingRemovals ? input.now : null,
    input.objectsDueAt,
    input.nextExpiryAt,
    input.capCheckAt,
  ].filter((at): at is number => at !== null);
  return candidates.length > 0 ? Math.min(...candidates) : null;
}

/** Retry delay of a result folder whose store failed `failures` times: doubling, at most an hour. */
export function objectRetryMs(failures: number): number {
  return Math.min(5_000 * 2 ** Math.min(failures, 20), 3_600_000);
}

/** Where an aggregate job wrote its result: the output store and the folder its objects are under. */
export interface ResultFolder {
  store: string;
  base: string;
}

/**
 * The result folder of a job to delete with it: only the Scheduler's own folder for the job
 * (`…/_tm/jobs/<id>/`), never an output prefix the job named, which may hold anything else.
 */
export function ownResultFolder(jobId: string, output: ResultFolder | null): ResultFolder | null {
  if (output === null) return null;
  return output.base.endsWith(`${INTERNAL_DIR}jobs/${jobId}/`) ? output : null;
}
