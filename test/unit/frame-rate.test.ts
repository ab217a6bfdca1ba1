/** The per-connection frame bucket: a burst, then a steady rate, refilled by elapsed time. */
import { describe, expect, it } from 'vitest';
import {
  chargeRefused,
  DEFAULT_FRAME_RATE,
  fullBucket,
  REFUSED_FRAME_COST,
  takeToken,
} from '../../durable-objects/frame-rate.ts';

describe('takeToken', () => {
  const rate = { burst: 3, perSecond: 2 };

  it('admits a burst, then refuses until time refills the bucket', () => {
    const bucket = fullBucket(rate, 0);
    expect([1, 2, 3, 4].map(() => takeToken(bucket, rate, 0))).toEqual([true, true, true, false]);
    expect(takeToken(bucket, rate, 499)).toBe(false);
    expect(takeToken(bucket, rate, 500)).toBe(true);
  });

  it('never holds more than the burst however long the connection was quiet', () => {
    const bucket = fullBucket(rate, 0);
    const admitted = Array.from({ length: 10 }, () => takeToken(bucket, rate, 1_000_000));
    expect(admitted.filter(Boolean)).toHaveLength(3);
  });

  it('charges a refused frame extra, so a few dozen refusals empty a full bucket', () => {
    const bucket = fullBucket(DEFAULT_FRAME_RATE, 0);
    let admitted = 0;
    while (takeToken(bucket, DEFAULT_FRAME_RATE, 0)) {
      admitted++;
      chargeRefused(bucket);
    }
    expect(admitted).toBe(Math.ceil(DEFAULT_FRAME_RATE.burst / (1 + REFUSED_FRAME_COST)));
  });

  it('keeps a steady sender at its rate admitted, and one twice as fast is refused', () => {
    const steady = fullBucket(DEFAULT_FRAME_RATE, 0);
    const fast = fullBucket(DEFAULT_FRAME_RATE, 0);
    let steadyRefused = 0;
    let fastRefused = 0;
    for (let ms = 0; ms < 60_000; ms += 1) {
      if (!takeToken(steady, DEFAULT_FRAME_RATE, ms)) steadyRefused++;
      if (!takeToken(fast, DEFAULT_FRAME_RATE, ms) || !takeToken(fast, DEFAULT_FRAME_RATE, ms))
        fastRefused++;
    }
    expect(steadyRefused).toBe(0);
    expect(fastRefused).toBeGreaterThan(0);
  });
});
