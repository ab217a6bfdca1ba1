/**
 * The Scheduler's half of API authentication: tenant tokens by hash, and a count of wrong tokens
 * per client, which answers a client that keeps sending them with 429 and Retry-After.
 */
import { lockedOutFailure, type WhoAmI } from '../protocol/index.ts';
import type { Core } from './core.ts';
import { SchedulerError } from './failure.ts';
import { tenantOfToken } from './tenants.ts';
import { countFailure } from './db/auth-failures.ts';

/**
 * Tells which tenant a token speaks for (the Worker matches the admin token itself). A valid
 * token is always accepted; a wrong one is counted against `client`, and refused with 429 instead
 * of 401 once the client has sent `authFailureLimit` of them within the window.
 */
export function authenticate(core: Core, client: string, tokenHash: string): WhoAmI {
  const now = core.now();
  const tenant = tenantOfToken(core.sql, tokenHash, now);
  if (tenant) return { kind: 'tenant', ...tenant };
  const { authFailureLimit: limit, authWindowMs: windowMs } = core.config;
  const counted = countFailure(core.sql, client, now, windowMs);
  if (counted && counted.failures >= limit)
    throw new SchedulerError(lockedOutFailure(counted.window_start + windowMs - now));
  throw new SchedulerError({ status: 401, code: 'unauthorized', message: 'invalid token' });
}
