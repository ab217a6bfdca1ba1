/**
 * Counts every answered API request into `tm_http_requests_total` by method, route pattern and
 * status. The route is the pattern Hono matched (`/v1/jobs/:id`), never the raw path, and an
 * unknown method is `OTHER`, so no client can make new series at will.
 *
 * Each count is one small call to the Scheduler, handed to `waitUntil`: the response never waits
 * for it, and the count lands in the same table as the other counters, so it survives restarts
 * and adds up across Worker isolates. Batching in the isolate would save calls but lose what an
 * evicted isolate held; the Scheduler's busy path is agents' frames, not API calls.
 */
import type { Context, MiddlewareHandler } from 'hono';
import { matchedRoutes } from 'hono/route';
import type { AppEnv } from '../env.ts';
import { routeLabel } from './route-label.ts';
import { scheduler } from '../scheduler-stub.ts';

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

export const countRequests: MiddlewareHandler<AppEnv> = async (c, next) => {
  await next();
  const request = {
    method: METHODS.has(c.req.method) ? c.req.method : 'OTHER',
    route: routeLabel(matchedRoutes(c)),
    status: c.res.status,
  };
  const counted = scheduler(c.env)
    .countRequest(request)
    .catch((error: unknown) => console.warn(`tm: counting a request failed: ${String(error)}`));
  inBackground(c, counted);
};

/** Keeps the work alive past the response; without an ExecutionContext (app.request in tests) it runs as is. */
function inBackground(c: Context<AppEnv>, work: Promise<unknown>): void {
  let waitUntil: (work: Promise<unknown>) => void;
  try {
    const context = c.executionCtx;
    waitUntil = (promise) => context.waitUntil(promise);
  } catch {
    return;
  }
  waitUntil(work);
}
