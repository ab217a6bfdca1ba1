/**
 * API authentication: every /v1 and /api route but health, the OpenAPI document and the agents'
 * socket (which has join tokens of its own) needs `Authorization: Bearer <token>`, the admin
 * token or a tenant's. The principal it finds is what the routes scope their reads and writes to.
 * Only wrong tokens are ever refused: a client that sent too many gets 429 for the next ones, and
 * a valid token, from any client, still works.
 */
import type { Context, MiddlewareHandler } from 'hono';
import type { AppEnv } from '../env.ts';
import { ApiError, unwrap } from '../errors.ts';
import { scheduler } from '../scheduler-stub.ts';
import { bearerToken, sameSecret } from './tokens.ts';
import { hashToken, type Outcome, type WhoAmI } from '../../protocol/index.ts';

const OPEN_PATHS = new Set(['/v1/health', '/v1/openapi.json', '/v1/agent/connect']);

export const authenticate: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (OPEN_PATHS.has(c.req.path)) return next();
  const adminToken = c.env.TM_ADMIN_TOKEN;
  if (!adminToken) throw authNotConfigured();
  const token = requireBearer(c, 'an API token');
  if (await sameSecret(token, adminToken)) {
    c.set('principal', { kind: 'admin' });
    return next();
  }
  c.set('principal', await tenantOfToken(c, token));
  return next();
};

/** 503: the control plane has no admin token, so no token can be checked. */
export const authNotConfigured = () =>
  new ApiError({
    status: 503,
    code: 'auth_not_configured',
    message: 'the control plane has no admin token: set the TM_ADMIN_TOKEN secret',
  });

/** The request's bearer token; without one, a 401 that says which token (`what`) it needs. */
export function requireBearer(c: Context<AppEnv>, what: string): string {
  const token = bearerToken(c.req.header('authorization'));
  if (token) return token;
  throw new ApiError({
    status: 401,
    code: 'unauthorized',
    message: `${what} is required (Authorization: Bearer …)`,
  });
}

/**
 * Asks the Scheduler whose token this is (not the admin's, which the Worker matches itself): a
 * tenant's, or a wrong one, counted against the client and raised as 401, or 429 past the limit.
 */
export async function tenantOfToken(c: Context<AppEnv>, token: string): Promise<WhoAmI> {
  const client = clientOf(c.env, c.req.header('cf-connecting-ip'));
  // Asked over fetch, not RPC: with an RPC here, workerd closed the client's kept-alive connection
  // after every large reply that followed (2 MB result pages); over fetch that is rare.
  const params = new URLSearchParams({ client, hash: await hashToken(token) });
  const reply = await scheduler(c.env).fetch(`https://scheduler/authenticate?${params}`);
  const outcome = (await reply.json()) as Outcome<WhoAmI>;
  return unwrap(outcome);
}

/**
 * Whom a wrong token is counted against. Behind Cloudflare (`TM_BEHIND_CLOUDFLARE=true`, set in
 * wrangler.toml, so by `wrangler deploy`), the edge writes `CF-Connecting-IP` itself, over
 * whatever the client sent: it is the client's address. Anywhere else (the local stack writes
 * `false` over it, and it is absent in a bare config) the header is the client's to write, as
 * wrangler dev passes it through, so every client counts as the one bucket `local`. A valid token
 * is never refused for that count, so sharing the bucket costs a valid client nothing.
 */
export function clientOf(
  env: { TM_BEHIND_CLOUDFLARE?: string },
  header: string | undefined,
): string {
  if (env.TM_BEHIND_CLOUDFLARE !== 'true') return 'local';
  return header ?? 'unknown';
}
