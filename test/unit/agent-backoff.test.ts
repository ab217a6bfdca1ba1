/** Reconnect backoff: full jitter under a ceiling that doubles from 100 ms to a 5 s cap. */
import { describe, expect, it } from 'vitest';
import { Backoff, backoffDelay, BACKOFF_CAP_MS } from '../../worker-agent/backoff.ts';

describe('backoffDelay', () => {
  it('stays within [0, ceiling) and the ceiling doubles from 100 ms', () => {
    expect(backoffDelay(0, 0)).toBe(0);
    expect(backoffDelay(0, 0.5)).toBe(50);
    expect(backoffDelay(0, 0.999999)).toBe(99);
    expect(backoffDelay(1, 0.5)).toBe(100);
    expect(backoffDelay(3, 0.5)).toBe(400);
    for (let failures = 0; failures < 12; failures++) {
      const ceiling = Math.min(BACKOFF_CAP_MS, 100 * 2 ** failures);
      for (const random of [0, 0.25, 0.5, 0.75, 0.999, 1]) {
        const delay = backoffDelay(failures, random);
        expect(delay).toBeGreaterThanOrEqual(0);
        expect(delay).toBeLessThan(ceiling);
      }
    }
  });

  it('caps at 5 s however many failures', () => {
    expect(backoffDelay(6, 0.999)).toBe(4995);
    expect(backoffDelay(1000, 1)).toBe(BACKOFF_CAP_MS - 1);
    expect(backoffDelay(Number.MAX_SAFE_INTEGER, 0.5)).toBe(2500);
  });

  it('treats out-of-range random numbers safely', () => {
    expect(backoffDelay(2, -1)).toBe(0);
    expect(backoffDelay(2, Number.NaN)).toBe(0);
    expect(backoffDelay(2, 7)).toBe(399);
  });
});

describe('Backoff', () => {
  it('grows with each failure and starts over after reset', () => {
    const backoff = new Backoff();
    expect([1, 2, 3, 4, 5, 6, 7, 8].map(() => backoff.next(0.5))).toEqual([
      50, 100, 200, 400, 800, 1600, 2500, 2500,
    ]);
    backoff.reset();
    expect(backoff.next(0.5)).toBe(50);
    expect(backoff.next(0.5)).toBe(100);
  });
});
