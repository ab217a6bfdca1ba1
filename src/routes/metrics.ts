/** GET /metrics: the control plane's Prometheus metrics (docs/observability.md). */
import { Hono } from 'hono';
import type { AppEnv } from '../env.ts';
import { scheduler } from '../scheduler-stub.ts';
import { unwrap } from '../errors.ts';
import { metricsAccess } from '../metrics/metrics-access.ts';
import { sendRequestCounts } from '../metrics/request-counter.ts';
import { PROMETHEUS_CONTENT_TYPE, renderExposition } from '../../protocol/index.ts';

export const metrics = new Hono<AppEnv>().use(metricsAccess).get('/', async (c) => {
  // This isolate's request counts first, so that the scrape includes every request it answered.
  await sendRequestCounts(c.env);
  const families = unwrap(await scheduler(c.env).metrics());
  return c.body(renderExposition(families), 200, { 'content-type': PROMETHEUS_CONTENT_TYPE });
});
