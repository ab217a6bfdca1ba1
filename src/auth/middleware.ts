/**
 * API authentication: every /v1 and /api route but health, the OpenAPI document and the agents'
 * socket (which has join tokens of its own) needs `Authorization: Bearer <token>`, the admin
 * token or a tenant's. The principal it finds is what the routes scope their reads and writes to.
 */
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../env.ts';
import { ApiError, unwrap } from '../errors.ts';
import { scheduler } from '../scheduler-stub.ts';
import { hashToken } from '../../durable-objects/tokens.ts';
import { bearerToken, sameSecret } from './tokens.ts';
import { lockedOutFailure, type Outcome, type WhoAmI } from '../../protocol/index.ts';

const OPEN_PATHS = new Set(['/v1/health', '/v1/openapi.json', '/v1/agent/connect']);

export const authenticate: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (OPEN_PATHS.has(c.req.path)) return next();
  const adminToken = c.env.TM_ADMIN_TOKEN;
  if (!adminToken) {
    throw new ApiError({
      status: 503,
      code: 'auth_not_configured',
      message: 'the control plane has no admin token: set the TM_ADMIN_TOKEN secret',
    });
  }
  const token = bearerToken(c.req.header('authorization'));
  if (!token) {
    throw new ApiError({
      status: 401,
      code: 'unauthorized',
      message: 'an API token is required (Authorization: Bearer …)',
    });
  }
  const client = clientOf(c);
  if (await sameSecret(token, adminToken)) {
    refuseIfLockedOut(client);
    c.set('principal', { kind: 'admin' });
    return next();
  }
  // Asked over fetch, not RPC: with an RPC here, workerd closed the client's kept-alive connection
  // after every large reply that followed (2 MB result pages); over fetch that is rare.
  const params = new URLSearchParams({ client, hash: await hashToken(token) });
  const reply = await scheduler(c.env).fetch(`https://scheduler/authenticate?${params}`);
  const outcome = (await reply.json()) as Outcome<WhoAmI>;
  if (!outcome.ok && outcome.error.status === 429) rememberLockout(client, outcome.error.details);
  c.set('principal', unwrap(outcome));
  return next();
};

/**
 * Clients the Scheduler locked out for wrong tokens, as this isolate heard it: until when. The
 * admin token is matched here without a call to the Scheduler (it is on every admin request's
 * path), so a locked-out client is refused here even with the right admin token: a guesser
 * cannot tell a right guess by its answer. Tenant tokens are checked by the Scheduler itself.
 */
const lockedOutUntil = new Map<string, number>();
const MAX_REMEMBERED = 10_000;

function rememberLockout(client: string, details: unknown): void {
  const seconds = (details as { retryAfterSeconds?: number } | undefined)?.retryAfterSeconds ?? 60;
  if (lockedOutUntil.size >= MAX_REMEMBERED) {
    const now = Date.now();
    for (const [key, until] of lockedOutUntil) if (until <= now) lockedOutUntil.delete(key);
  }
  lockedOutUntil.set(client, Date.now() + seconds * 1000);
}

function refuseIfLockedOut(client: string): void {
  const until = lockedOutUntil.get(client);
  if (until === undefined) return;
  const remainingMs = until - Date.now();
  if (remainingMs <= 0) {
    lockedOutUntil.delete(client);
    return;
  }
  throw new ApiError(lockedOutFailure(remainingMs));
}

/** The client a wrong token is counted against: its address as Cloudflare saw it. */
function clientOf(c: { req: { header(name: string): string | undefined } }): string {
  return c.req.header('cf-connecting-ip') ?? 'unknown';
}
