/** Who a request acts for, set by the auth middleware: the admin, or one tenant. */
import type { Context, MiddlewareHandler } from 'hono';
import type { AppEnv } from '../env.ts';
import { forbidden } from '../errors.ts';
import type { WhoAmI } from '../../protocol/index.ts';

export type Principal = WhoAmI;

export function principalOf(c: Context<AppEnv>): Principal {
  const principal = c.get('principal');
  if (!principal) throw new Error('auth middleware did not run for this route');
  return principal;
}

/** Workers, object stores and tenants are the admin's to manage. */
export function requireAdmin(c: Context<AppEnv>): void {
  if (principalOf(c).kind !== 'admin') {
    throw forbidden('this needs the admin token; a tenant token may not manage the cluster');
  }
}

/** Middleware form of requireAdmin, for routers that are the admin's alone. */
export const adminOnly: MiddlewareHandler<AppEnv> = async (c, next) => {
  requireAdmin(c);
  await next();
};

/** Applications and pipelines belong to a tenant; the admin acts on none of them directly. */
export function requireTenant(c: Context<AppEnv>): { tenantId: string; tenantName: string } {
  const principal = principalOf(c);
  if (principal.kind !== 'tenant') {
    throw forbidden(
      'applications belong to tenants: use a tenant token (POST /v1/tenants makes one)',
    );
  }
  return principal;
}

/** The tenant whose rows a request may see, or null for the admin, who sees every tenant's. */
export function ownerScope(c: Context<AppEnv>): string | null {
  const principal = principalOf(c);
  return principal.kind === 'tenant' ? principal.tenantId : null;
}
