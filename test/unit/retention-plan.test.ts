/** Retention's pure rules: refusals, sweep planning, the wake-up times, result folders. */
import { describe, expect, it } from 'vitest';
import {
  capCheckAt,
  nextRetentionWake,
  objectRetryMs,
  ownResultFolder,
  planSweep,
  removalDueAt,
  retentionRefusal,
  type Candidate,
} from '../../durable-objects/retention-plan.ts';

const job = (id: string, finishedAt: number): Candidate => ({ id, tenantId: null, finishedAt });

describe('retentionRefusal', () => {
  it('takes the cluster default or anything shorter, and names the limit past it', () => {
    expect(retentionRefusal(null, 60_000)).toBeNull();
    expect(retentionRefusal(60_000, 60_000)).toBeNull();
    expect(retentionRefusal(1000, 60_000)).toBeNull();
    expect(retentionRefusal(61_000, 60_000)).toMatch(
      /61 is longer .* \(60 s, TM_RETENTION_SECONDS\)/,
    );
  });
});

describe('planSweep', () => {
  it('removes the expired jobs, oldest first, at most `limit`', () => {
    const plan = planSweep({
      expired: [job('b', 20), job('a', 10), job('c', 30)],
      oldest: [],
      finished: 3,
      maxFinished: 100,
      limit: 2,
    });
    expect(plan.map((p) => [p.job.id, p.reason])).toEqual([
      ['a', 'retention'],
      ['b', 'retention'],
    ]);
  });

  it('past the cap removes the oldest others until the cap is met, counting the expired ones', () => {
    const oldest = [job('a', 1), job('b', 2), job('c', 3), job('d', 4)];
    const plan = planSweep({
      expired: [job('b', 2)],
      oldest,
      finished: 6,
      maxFinished: 3,
      limit: 10,
    });
    expect(plan.map((p) => [p.job.id, p.reason])).toEqual([
      ['a', 'cap'],
      ['b', 'retention'],
      ['c', 'cap'],
    ]);
  });

  it('removes nothing at or under the cap', () => {
    const oldest = [job('a', 1), job('b', 2)];
    expect(planSweep({ expired: [], oldest, finished: 2, maxFinished: 2, limit: 10 })).toEqual([]);
  });

  it('counts a job found both expired twice only once', () => {
    const plan = planSweep({
      expired: [job('a', 1), job('a', 1)],
      oldest: [],
      finished: 1,
      maxFinished: 5,
      limit: 10,
    });
    expect(plan).toHaveLength(1);
  });
});

describe('capCheckAt', () => {
  it('never checks a cluster where no job ended since the last check', () => {
    expect(capCheckAt(null, null, 60_000)).toBeNull();
    expect(capCheckAt(1000, 1000, 60_000)).toBeNull();
    expect(capCheckAt(900, 1000, 60_000)).toBeNull();
  });

  it('checks one period after the last check once a job ended since, or at once if never', () => {
    expect(capCheckAt(2000, 1000, 60_000)).toBe(61_000);
    expect(capCheckAt(2000, null, 60_000)).toBe(60_000);
  });
});

describe('nextRetentionWake', () => {
  const idle = {
    now: 5000,
    pendingRemovals: false,
    objectsDueAt: null,
    nextExpiryAt: null,
    capCheckAt: null,
  };

  it('asks for no wake-up when nothing is kept or pending', () => {
    expect(nextRetentionWake(idle)).toBeNull();
  });

  it('comes back at once while removals are under way', () => {
    expect(nextRetentionWake({ ...idle, pendingRemovals: true, nextExpiryAt: 9000 })).toBe(5000);
  });

  it('takes the earliest of the folders, the next expiry and the cap check', () => {
    expect(nextRetentionWake({ ...idle, objectsDueAt: 8000, nextExpiryAt: 7000 })).toBe(7000);
    expect(nextRetentionWake({ ...idle, nextExpiryAt: 7000, capCheckAt: 6000 })).toBe(6000);
  });
});

describe('objectRetryMs', () => {
  it('doubles from 5 s and stops at an hour', () => {
    expect([0, 1, 2].map(objectRetryMs)).toEqual([5000, 10_000, 20_000]);
    expect(objectRetryMs(30)).toBe(3_600_000);
  });
});

describe('ownResultFolder', () => {
  const id = '4f1c2d9e-0000-4000-8000-000000000001';

  it("is the Scheduler's own folder for the job", () => {
    const output = { store: 's', base: `data/_tm/jobs/${id}/` };
    expect(ownResultFolder(id, output)).toEqual(output);
  });

  it('is never an output prefix the job named, nor another job’s folder, nor a non-aggregate', () => {
    expect(ownResultFolder(id, { store: 's', base: 'reports/daily/' })).toBeNull();
    expect(ownResultFolder(id, { store: 's', base: `data/_tm/jobs/other/` })).toBeNull();
    expect(ownResultFolder(id, null)).toBeNull();
  });
});

describe('removalDueAt', () => {
  it("is the job's own retention after it ended, or the cluster's when that is shorter or unset", () => {
    expect(removalDueAt(1_000, 500, 10_000)).toBe(1_500);
    expect(removalDueAt(1_000, null, 10_000)).toBe(11_000);
    expect(removalDueAt(1_000, 50_000, 10_000)).toBe(11_000);
  });
});
