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
import type { Outcome, WhoAmI } from '../../protocol/index.ts';

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
  const isAdmin = await sameSecret(token, adminToken);
  const params = new URLSearchParams({ client: clientOf(c) });
  if (!isAdmin) params.set('hash', await hashToken(token));
  // Asked over fetch, not RPC: with an RPC here, workerd closed the client's kept-alive connection
  // after every large reply that followed (2 MB result pages); over fetch that is rare.
  const reply = await scheduler(c.env).fetch(`https://scheduler/authenticate?${params}`);
  c.set('principal', unwrap((await reply.json()) as Outcome<WhoAmI>));
  return next();
};

/** The client a wrong token is counted against: its address as Cloudflare saw it. */
function clientOf(c: { req: { header(name: string): string | undefined } }): string {
  return c.req.header('cf-connecting-ip') ?? 'unknown';
}
