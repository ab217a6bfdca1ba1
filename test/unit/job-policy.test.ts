import { describe, expect, it } from 'vitest';
import {
  DEFAULT_BACKOFF_INITIAL_MS,
  DEFAULT_BACKOFF_MAX_MS,
  DEFAULT_MAX_LOST,
  resolvePolicy,
  retryDelayMs,
} from '../../durable-objects/job-policy.ts';

describe('resolvePolicy', () => {
  it('fills in the defaults, with the retries the job kind brings', () => {
    expect(resolvePolicy({}, 2)).toEqual({
      retries: 2,
      backoffInitialMs: DEFAULT_BACKOFF_INITIAL_MS,
      backoffMaxMs: DEFAULT_BACKOFF_MAX_MS,
      maxLost: DEFAULT_MAX_LOST,
      leaseMs: null,
      taskTimeoutMs: null,
      jobTimeoutMs: null,
      retentionMs: null,
    });
  });

  it('turns seconds into milliseconds and keeps the cap at least the first delay', () => {
    expect(
      resolvePolicy(
        {
          retries: 0,
          retryBackoff: { initialSeconds: 120 },
          maxLostAttempts: 0,
          leaseSeconds: 1.5,
          timeoutSeconds: 0.25,
          jobTimeoutSeconds: 3600,
          retentionSeconds: 60,
        },
        3,
      ),
    ).toEqual({
      retries: 0,
      backoffInitialMs: 120_000,
      backoffMaxMs: 120_000,
      maxLost: 0,
      leaseMs: 1500,
      taskTimeoutMs: 250,
      jobTimeoutMs: 3_600_000,
      retentionMs: 60_000,
    });
  });
});

describe('retryDelayMs', () => {
  const backoff = { initialMs: 1000, maxMs: 10_000 };

  it('doubles with each failure and stops at the cap', () => {
    expect([1, 2, 3, 4, 5, 6].map((n) => retryDelayMs(n, backoff, 1))).toEqual([
      1000, 2000, 4000, 8000, 10_000, 10_000,
    ]);
  });

  it('jitters between half and all of the delay', () => {
    expect(retryDelayMs(3, backoff, 0)).toBe(2000);
    expect(retryDelayMs(3, backoff, 0.5)).toBe(3000);
  });

  it('does not overflow after very many failures', () => {
    expect(retryDelayMs(10_000, backoff, 1)).toBe(10_000);
    expect(retryDelayMs(0, backoff, 1)).toBe(1000);
  });
});
