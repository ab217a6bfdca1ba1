/** When a job is over and how it ended; whether a failed attempt is retried. */
import { describe, expect, it } from 'vitest';
import { jobOutcome, shouldRetry, type JobCounters } from '../../durable-objects/job-outcome.ts';

const counters = (over: Partial<JobCounters>): JobCounters => ({
  total: 3,
  succeeded: 0,
  failed: 0,
  cancelled: 0,
  cancelRequested: false,
  ...over,
});

describe('jobOutcome', () => {
  it('is null while some task has not ended', () => {
    expect(jobOutcome(counters({}))).toBeNull();
    expect(jobOutcome(counters({ succeeded: 2 }))).toBeNull();
    expect(jobOutcome(counters({ succeeded: 1, failed: 1 }))).toBeNull();
    expect(jobOutcome(counters({ cancelled: 2, cancelRequested: true }))).toBeNull();
  });

  it('is succeeded when every task succeeded', () => {
    expect(jobOutcome(counters({ succeeded: 3 }))).toBe('succeeded');
  });

  it('is failed when any task failed or was cancelled without a cancel request', () => {
    expect(jobOutcome(counters({ succeeded: 2, failed: 1 }))).toBe('failed');
    expect(jobOutcome(counters({ succeeded: 2, cancelled: 1 }))).toBe('failed');
  });

  it('is cancelled when a cancel was requested, whatever the tasks did', () => {
    expect(jobOutcome(counters({ cancelled: 3, cancelRequested: true }))).toBe('cancelled');
    expect(jobOutcome(counters({ succeeded: 2, cancelled: 1, cancelRequested: true }))).toBe(
      'cancelled',
    );
    expect(jobOutcome(counters({ succeeded: 3, cancelRequested: true }))).toBe('cancelled');
  });

  it('treats a job without tasks as succeeded', () => {
    expect(jobOutcome(counters({ total: 0 }))).toBe('succeeded');
  });
});

describe('shouldRetry', () => {
  it('retries while failures stay below the retry limit', () => {
    expect(shouldRetry(0, 1, false)).toBe(true);
    expect(shouldRetry(1, 1, false)).toBe(false);
    expect(shouldRetry(2, 3, false)).toBe(true);
    expect(shouldRetry(3, 3, false)).toBe(false);
  });

  it('never retries without retries or for non-retryable errors', () => {
    expect(shouldRetry(0, 0, false)).toBe(false);
    expect(shouldRetry(0, 5, true)).toBe(false);
  });
});
