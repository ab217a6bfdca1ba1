/** How a job's tasks ride out faults: retries with backoff, lost agents, leases and timeouts. */
import { z } from 'zod';

const WEEK_SECONDS = 7 * 24 * 3600;

export const RetryBackoff = z
  .strictObject({
    /** Delay before the first retry (default 1 s); it doubles with each failure, with jitter. */
    initialSeconds: z.number().min(0).max(3600).optional(),
    /** Longest delay between retries (default 60 s). */
    maxSeconds: z
      .number()
      .min(0)
      .max(24 * 3600)
      .optional(),
  })
  .refine(
    (b) =>
      b.initialSeconds === undefined ||
      b.maxSeconds === undefined ||
      b.initialSeconds <= b.maxSeconds,
    { message: 'retryBackoff.initialSeconds must not exceed retryBackoff.maxSeconds' },
  );
export type RetryBackoff = z.infer<typeof RetryBackoff>;

/** Fault settings every job kind accepts; the Scheduler fills in the defaults. */
export const FaultPolicyFields = {
  /** Times a failed task runs again (a non-zero exit, an error, a timeout). */
  retries: z.number().int().min(0).max(100).optional(),
  retryBackoff: RetryBackoff.optional(),
  /**
   * Times a task may lose its agent (killed, disconnected, silent) and still run again; these do
   * not count as failures. Past it the task fails: it is likely what kills its agents.
   */
  maxLostAttempts: z.number().int().min(0).max(100).optional(),
  /** A task whose agent is silent this long runs elsewhere (default: the cluster's lease). */
  leaseSeconds: z.number().min(1).max(3600).optional(),
  /** Each attempt of each task may run this long; then it is stopped and fails (and may retry). */
  timeoutSeconds: z.number().positive().max(WEEK_SECONDS).optional(),
  /** The whole job may run this long; then its unfinished tasks are cancelled and it fails. */
  jobTimeoutSeconds: z.number().positive().max(WEEK_SECONDS).optional(),
};

/** One ended attempt of a task, as its history shows it. */
export const AttemptOutcome = z.enum(['succeeded', 'failed', 'timed_out', 'lost', 'cancelled']);
export type AttemptOutcome = z.infer<typeof AttemptOutcome>;

export const AttemptView = z.object({
  attempt: z.number().int(),
  workerId: z.string().nullable(),
  outcome: AttemptOutcome,
  error: z.string().nullable(),
  exitCode: z.number().int().nullable(),
  assignedAt: z.string().nullable(),
  startedAt: z.string().nullable(),
  finishedAt: z.string(),
});
export type AttemptView = z.infer<typeof AttemptView>;

/** A job's ended attempts by outcome: how much its tasks were retried, lost or timed out. */
export const AttemptCounts = z.object({
  succeeded: z.number().int(),
  failed: z.number().int(),
  timed_out: z.number().int(),
  lost: z.number().int(),
  cancelled: z.number().int(),
});
export type AttemptCounts = z.infer<typeof AttemptCounts>;
