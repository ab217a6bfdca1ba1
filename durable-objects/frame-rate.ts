/**
 * A per-connection token bucket for agent frames. A real agent coalesces its reports into at most
 * one frame per kind per tick, and one log frame per task at most every 50 ms or 32 KiB of output
 * (worker-agent/outbox.ts, log-buffer.ts): even running echo tasks as fast as the Scheduler
 * assigns them it sends two frames a round trip, a few hundred a second. A frame the Scheduler
 * refuses (an error reply: not the agent's task, malformed, out of turn) costs REFUSED_FRAME_COST
 * more, as a real agent almost never sends one: 300 refused `started` frames, which took
 * /v1/health from 0.2 s to 4.4 s, empty the bucket after about 40.
 */

export interface FrameRate {
  /** Frames a connection may send at once (default 2,000: a reconnect's whole backlog). */
  burst: number;
  /** Frames a second it may keep sending (default 1,000). */
  perSecond: number;
}

export const DEFAULT_FRAME_RATE: FrameRate = { burst: 2000, perSecond: 1000 };

/** What a refused frame costs on top of its own token. */
export const REFUSED_FRAME_COST = 50;

export interface Bucket {
  tokens: number;
  at: number;
}

/** A full bucket, as a new connection (or one woken from hibernation) gets. */
export const fullBucket = (rate: FrameRate, now: number): Bucket => ({
  tokens: rate.burst,
  at: now,
});

/**
 * Takes `cost` tokens (one frame's: 1), refilling for the time since the last take; false when
 * fewer are left (a refused frame's charge may leave the bucket below zero).
 */
export function takeToken(bucket: Bucket, rate: FrameRate, now: number, cost = 1): boolean {
  const elapsed = Math.max(0, now - bucket.at);
  bucket.tokens = Math.min(rate.burst, bucket.tokens + (elapsed * rate.perSecond) / 1000);
  bucket.at = now;
  if (bucket.tokens < cost) return false;
  bucket.tokens -= cost;
  return true;
}

/** Charges a refused frame's extra cost, which the next frame's take then sees. */
export function chargeRefused(bucket: Bucket): void {
  bucket.tokens -= REFUSED_FRAME_COST;
}
