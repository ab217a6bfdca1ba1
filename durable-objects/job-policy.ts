/** Pure rules of a job's fault and retention policy: its settings with defaults filled in, and retry delays. */
import type { RetryBackoff } from '../protocol/index.ts';

/** A job's fault settings in milliseconds, as stored with the job. */
export interface JobPolicy {
  retries: number;
  backoffInitialMs: number;
  backoffMaxMs: number;
  maxLost: number;
  /** Silence after which this job's tasks move; null: the cluster's lease. */
  leaseMs: number | null;
  /** Limit on each attempt; null: none. */
  taskTimeoutMs: number | null;
  /** Limit on the whole job; null: none. */
  jobTimeoutMs: number | null;
  /** How long the job is kept once it ends; null: the cluster's retention. */
  retentionMs: number | null;
}

export interface PolicyRequest {
  retries?: number;
  retryBackoff?: RetryBackoff;
  maxLostAttempts?: number;
  leaseSeconds?: number;
  timeoutSeconds?: number;
  jobTimeoutSeconds?: number;
  retentionSeconds?: number;
}

export const DEFAULT_BACKOFF_INITIAL_MS = 1000;
export const DEFAULT_BACKOFF_MAX_MS = 60_000;
export const DEFAULT_MAX_LOST = 5;
/** What the control plane waits past a task's timeout, so the agent reports it first, with output. */
export const TIMEOUT_GRACE_MS = 5000;

const ms = (seconds: number | undefined) =>
  seconds === undefined ? null : Math.round(seconds * 1000);

export function resolvePolicy(request: PolicyRequest, defaultRetries: number): JobPolicy {
  const backoffInitialMs = ms(request.retryBackoff?.initialSeconds) ?? DEFAULT_BACKOFF_INITIAL_MS;
  return {
    retries: request.retries ?? defaultRetries,
    backoffInitialMs,
    backoffMaxMs: Math.max(
      backoffInitialMs,
      ms(request.retryBackoff?.maxSeconds) ?? DEFAULT_BACKOFF_MAX_MS,
    ),
    maxLost: request.maxLostAttempts ?? DEFAULT_MAX_LOST,
    leaseMs: ms(request.leaseSeconds),
    taskTimeoutMs: ms(request.timeoutSeconds),
    jobTimeoutMs: ms(request.jobTimeoutSeconds),
    retentionMs: ms(request.retentionSeconds),
  };
}

/**
 * Delay before retry number `failures` (1 for the first): exponential, capped, with jitter in
 * [half, whole] so that tasks failing together do not come back together.
 */
export function retryDelayMs(
  failures: number,
  backoff: { initialMs: number; maxMs: number },
  random: number,
): number {
  const exponent = Math.min(Math.max(failures - 1, 0), 30);
  const ceiling = Math.min(backoff.maxMs, backoff.initialMs * 2 ** exponent);
  return Math.round(ceiling * (0.5 + 0.5 * random));
}
