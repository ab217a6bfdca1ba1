/**
 * The Scheduler's half of API authentication: tenant tokens by hash, and a limit on wrong tokens
 * per client, so that guessing a token (the admin's included) is slow.
 */
import { lockedOutFailure, type WhoAmI } from '../protocol/index.ts';
import type { Core } from './core.ts';
import { SchedulerError } from './failure.ts';
import { tenantOfToken } from './tenants.ts';

interface FailureRow {
  window_start: number;
  failures: number;
}

/**
 * Tells which tenant a token speaks for (the Worker matches the admin token itself). A client
 * locked out for wrong tokens is refused whatever it sends.
 */
export function authenticate(core: Core, client: string, tokenHash: string): WhoAmI {
  const now = core.now();
  const { authFailureLimit: limit, authWindowMs: windowMs } = core.config;
  const record = core.sql.first<FailureRow>(
    `SELECT window_start, failures FROM auth_failures WHERE client = ?`,
    client,
  );
  const open = record !== null && now - record.window_start < windowMs;
  if (open && record.failures >= limit)
    throw new SchedulerError(lockedOutFailure(record.window_start + windowMs - now));
  const tenant = tenantOfToken(core.sql, tokenHash, now);
  if (tenant) return { kind: 'tenant', ...tenant };
  const counted = core.sql.first<FailureRow>(
    `INSERT INTO auth_failures (client, window_start, failures) VALUES (?, ?, 1)
     ON CONFLICT (client) DO UPDATE SET
       window_start = CASE WHEN ? - window_start < ? THEN window_start ELSE excluded.window_start END,
       failures = CASE WHEN ? - window_start < ? THEN failures + 1 ELSE 1 END
     RETURNING window_start, failures`,
    client,
    now,
    now,
    windowMs,
    now,
    windowMs,
  );
  // The wrong token that reaches the limit is already refused as a lockout, so the Worker hears
  // of it at once (it refuses the admin token from a locked-out client by itself).
  if (counted && counted.failures >= limit)
    throw new SchedulerError(lockedOutFailure(counted.window_start + windowMs - now));
  throw new SchedulerError({ status: 401, code: 'unauthorized', message: 'invalid token' });
}
