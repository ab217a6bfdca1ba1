/**
 * Who may read `GET /metrics`: the admin token, or the metrics token (`TM_METRICS_TOKEN`), which
 * reads the metrics and nothing else. A tenant token is refused with 403; a wrong one is counted
 * like any wrong token (401, then 429: src/auth/middleware.ts).
 */
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../env.ts';
import { forbidden } from '../errors.ts';
import { authNotConfigured, requireBearer, tenantOfToken } from '../auth/middleware.ts';
import { sameSecret } from '../auth/tokens.ts';

export const metricsAccess: MiddlewareHandler<AppEnv> = async (c, next) => {
  const secrets = [c.env.TM_ADMIN_TOKEN, c.env.TM_METRICS_TOKEN].filter(
    (secret): secret is string => Boolean(secret),
  );
  if (secrets.length === 0) throw authNotConfigured();
  const token = requireBearer(c, 'the admin token or the metrics token (TM_METRICS_TOKEN)');
  for (const secret of secrets) if (await sameSecret(token, secret)) return next();
  await tenantOfToken(c, token);
  throw forbidden(
    'metrics need the admin token or the metrics token (TM_METRICS_TOKEN), not a tenant’s',
  );
};
