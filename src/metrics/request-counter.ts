/**
 * Counts every answered API request into `tm_http_requests_total` by method, route pattern and
 * status. The route is the pattern Hono matched (`/v1/jobs/:id`), never the raw path, and an
 * unknown method is `OTHER`, so no client can make new series at will.
 *
 * An isolate adds its counts up in memory and hands them to the Scheduler in one call at most
 * every FLUSH_MS, from a `waitUntil` of the request that opened the batch: the response never
 * waits for it, and a run of requests does not queue a Scheduler call behind each (one call a
 * request added ~2 ms to the next request's latency under `bench:tasks`). `GET /metrics` sends
 * its isolate's batch before it reads, so a scrape sees every request its isolate answered; another
 * isolate's batch lands within FLUSH_MS. The counts land in the same table as the other counters,
 * so they survive restarts and add up across isolates.
 */
import type { Context, MiddlewareHandler } from 'hono';
import { matchedRoutes } from 'hono/route';
import type { AppEnv, Env } from '../env.ts';
import { routeLabel } from './route-label.ts';
import { scheduler } from '../scheduler-stub.ts';
import { unwrap } from '../errors.ts';
import { controlPlaneLogs } from '../../protocol/control-plane-log.ts';

/** The longest an isolate holds counts before it sends them. */
export const FLUSH_MS = 1000;

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

interface Counted {
  method: string;
  route: string;
  status: number;
  count: number;
}

/** This isolate's counts not yet sent, by method, route and status. */
const pending = new Map<string, Counted>();
/** Whether a send is scheduled. */
let scheduled = false;

export const countRequests: MiddlewareHandler<AppEnv> = async (c, next) => {
  await next();
  const method = METHODS.has(c.req.method) ? c.req.method : 'OTHER';
  const route = routeLabel(matchedRoutes(c));
  const status = c.res.status;
  const key = `${method} ${status} ${route}`;
  const counted = pending.get(key);
  if (counted) counted.count++;
  else pending.set(key, { method, route, status, count: 1 });
  if (scheduled) return;
  scheduled = true;
  inBackground(
    c,
    new Promise((resolve) => setTimeout(resolve, FLUSH_MS)).then(() => sendRequestCounts(c.env)),
  );
};

/** Sends this isolate's counts to the Scheduler; a failed send is logged, and its counts dropped. */
export async function sendRequestCounts(env: Env): Promise<void> {
  scheduled = false;
  const batch = [...pending.values()];
  pending.clear();
  if (batch.length === 0) return;
  try {
    unwrap(await scheduler(env).countRequests(batch));
  } catch (error) {
    controlPlaneLogs(env)('api').warn(`counting requests failed: ${String(error)}`);
  }
}

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
