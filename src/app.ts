/** The control plane's HTTP app: routes under /v1 and /api, body limits, and one error shape. */
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { AppEnv } from './env.ts';
import { errorResponse, onError } from './errors.ts';
import { MAX_BODY_BYTES } from '../protocol/index.ts';
import { health } from './routes/health.ts';
import { workers } from './routes/workers.ts';
import { jobs } from './routes/jobs.ts';
import { tasks } from './routes/tasks.ts';
import { agent } from './routes/agent.ts';
import { objectStores } from './routes/object-stores.ts';
import { openapi } from './routes/openapi.ts';
import { applications } from './routes/applications.ts';
import { tenants } from './routes/tenants.ts';
import { whoami } from './routes/whoami.ts';
import { admin } from './routes/admin.ts';
import { throughput } from './routes/throughput.ts';
import { events } from './routes/events.ts';
import { authenticate } from './auth/middleware.ts';
import { countRequests } from './metrics/request-counter.ts';
import { metrics } from './routes/metrics.ts';

export const app = new Hono<AppEnv>();

app.use('*', countRequests);
app.use('/v1/*', authenticate);
app.use('/api/*', authenticate);
const limitBody = bodyLimit({
  maxSize: MAX_BODY_BYTES,
  onError: (c) =>
    errorResponse(c, {
      status: 413,
      code: 'payload_too_large',
      message: `request body exceeds ${MAX_BODY_BYTES} bytes`,
    }),
});
app.use('/v1/*', limitBody);
app.use('/api/*', limitBody);
app.route('/v1/health', health);
app.route('/v1/workers', workers);
app.route('/v1/jobs', jobs);
app.route('/v1/tasks', tasks);
app.route('/v1/agent', agent);
app.route('/v1/object-stores', objectStores);
app.route('/v1/openapi.json', openapi);
app.route('/v1/tenants', tenants);
app.route('/v1/whoami', whoami);
app.route('/v1/admin', admin);
app.route('/v1/throughput', throughput);
app.route('/v1/events', events);
app.route('/api/applications', applications);
app.route('/metrics', metrics);
app.notFound((c) =>
  errorResponse(c, {
    status: 404,
    code: 'not_found',
    message: `no route for ${c.req.method} ${c.req.path}`,
  }),
);
app.onError(onError);
