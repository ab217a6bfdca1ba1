/** Pure reconnect delays: exponential from 100 ms, doubling to a 5 s cap, with full jitter. */

export const BACKOFF_BASE_MS = 100;
export const BACKOFF_CAP_MS = 5000;

/**
 * Delay before retry number `failures` (0 for the first): a uniform pick in [0, ceiling) where the
 * ceiling doubles per failure up to the cap. Full jitter spreads a fleet of agents that lost the
 * control plane at the same moment, so they do not all knock at once when it returns.
 */
export function backoffDelay(failures: number, random: number): number {
  const exponent = Math.min(Math.max(0, Math.floor(failures)), 30);
  const ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** exponent);
  const unit = Number.isFinite(random) ? Math.min(Math.max(random, 0), 1) : 0;
  return Math.min(Math.floor(unit * ceiling), ceiling - 1);
}

/** Counts consecutive failed connections; reset after a `welcome`. */
export class Backoff {
  private failures = 0;

  /** The delay before the next attempt, given a random number in [0, 1). */
  next(random: number): number {
    const delay = backoffDelay(this.failures, random);
    this.failures++;
    return delay;
  }

  reset(): void {
    this.failures = 0;
  }
}
