/**
 * End to end: a flood of 100,000 tasks submitted at once. The bounded queue turns the excess away
 * with 429 and Retry-After; a client that honours it gets every task run exactly once, and the
 * heartbeats of the agents are never starved (no agent loses its lease meanwhile).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TmApiError } from '../../cli/sdk/errors.ts';
import type { JobView } from '../../protocol/index.ts';
import { startTestStack, type TestStack } from '../support/stack.ts';

const JOBS = 20;
const TASKS_PER_JOB = 5000;
let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack({
    agents: 3,
    vars: { TM_HEARTBEAT_MS: '500', TM_LEASE_MS: '3000', TM_MAX_QUEUED_TASKS: '40000' },
  });
});
afterAll(async () => stack?.stop());

/** Submits like a well-behaved client: on 429 it waits and tries again. */
async function submitPolitely(refusals: { count: number }): Promise<JobView> {
  for (;;) {
    try {
      return await stack.client.submitJob({ kind: 'echo', count: TASKS_PER_JOB });
    } catch (error) {
      if (!(error instanceof TmApiError) || error.status !== 429) throw error;
      expect(error.message).toMatch(/queued tasks and takes at most 40000/);
      refusals.count++;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}

describe('a flood of submissions', () => {
  it('runs 100,000 tasks exactly once, refusing the excess with 429, without starving heartbeats', async () => {
    const refusals = { count: 0 };
    const jobs = await Promise.all(Array.from({ length: JOBS }, () => submitPolitely(refusals)));
    expect(refusals.count).toBeGreaterThan(0);

    const done = await Promise.all(jobs.map((job) => stack.client.waitJob(job.id, 240_000, 500)));
    for (const job of done) {
      expect(job.state).toBe('succeeded');
      expect(job.counts).toEqual({
        queued: 0,
        running: 0,
        succeeded: TASKS_PER_JOB,
        failed: 0,
        cancelled: 0,
      });
      // One attempt per task, none lost: the leases held while the Scheduler was busiest.
      expect(job.attempts).toEqual({
        succeeded: TASKS_PER_JOB,
        failed: 0,
        timed_out: 0,
        lost: 0,
        cancelled: 0,
      });
    }
    const workers = await stack.client.listWorkers();
    expect(workers.filter((w) => w.connected && w.state === 'ready')).toHaveLength(3);
  });
});
