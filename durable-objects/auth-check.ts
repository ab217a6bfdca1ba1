/**
 * The Scheduler's half of API authentication: tenant tokens by hash, and a limit on wrong tokens
 * per client, so that guessing a token (the admin's included) is slow.
 */
import type { WhoAmI } from '../protocol/index.ts';
import type { Core } from './core.ts';
import { SchedulerError } from './failure.ts';
import { tenantOfToken } from './tenants.ts';

interface FailureRow {
  window_start: number;
  failures: number;
}

/**
 * Tells who a token speaks for. `tokenHash` is null when the Worker has already matched the admin
 * token; the client's lockout applies all the same, so a locked-out guesser learns nothing.
 */
export function authenticate(core: Core, client: string, tokenHash: string | null): WhoAmI {
  const now = core.now();
  const { authFailureLimit: limit, authWindowMs: windowMs } = core.config;
  const record = core.sql.first<FailureRow>(
    `SELECT window_start, failures FROM auth_failures WHERE client = ?`,
    client,
  );
  const open = record !== null && now - record.window_start < windowMs;
  if (open && record.failures >= limit) throw lockedOut(record.window_start + windowMs - now);
  if (tokenHash === null) return { kind: 'admin' };
  const tenant = tenantOfToken(core.sql, tokenHash, now);
  if (tenant) return { kind: 'tenant', ...tenant };
  core.sql.run(
    `INSERT INTO auth_failures (client, window_start, failures) VALUES (?, ?, 1)
     ON CONFLICT (client) DO UPDATE SET
       window_start = CASE WHEN ? - window_start < ? THEN window_start ELSE excluded.window_start END,
       failures = CASE WHEN ? - window_start < ? THEN failures + 1 ELSE 1 END`,
    client,
    now,
    now,
    windowMs,
    now,
    windowMs,
  );
  throw new SchedulerError({ status: 401, code: 'unauthorized', message: 'invalid token' });
}

function lockedOut(remainingMs: number): SchedulerError {
  const retryAfterSeconds = Math.max(1, Math.ceil(remainingMs / 1000));
  return new SchedulerError({
    status: 429,
    code: 'rate_limited',
    message: `too many requests with a wrong token from this client; retry in ${retryAfterSeconds} s`,
    details: { retryAfterSeconds },
  });
}
