/** Pure rule for when a job is over and how it ended, from its task counters. */
import type { JobState } from '../protocol/index.ts';

export interface JobCounters {
  total: number;
  succeeded: number;
  failed: number;
  cancelled: number;
  cancelRequested: boolean;
}

/** The job's final state once every task has ended, else null. */
export function jobOutcome(counters: JobCounters): JobState | null {
  const ended = counters.succeeded + counters.failed + counters.cancelled;
  if (ended < counters.total) return null;
  if (counters.cancelRequested) return 'cancelled';
  if (counters.failed > 0 || counters.cancelled > 0) return 'failed';
  return 'succeeded';
}

/** Whether a failed attempt goes back to the queue or ends the task. */
export function shouldRetry(
  failuresSoFar: number,
  retries: number,
  nonRetryable: boolean,
): boolean {
  return !nonRetryable && failuresSoFar < retries;
}
