/** /v1/admin: the admin's view of the Scheduler itself: its storage (docs/storage.md), its queue. */
import { Hono } from 'hono';
import type { AppEnv } from '../env.ts';
import { scheduler } from '../scheduler-stub.ts';
import { unwrap } from '../errors.ts';
import { adminOnly } from '../auth/principal.ts';

export const admin = new Hono<AppEnv>()
  .use(adminOnly)
  .get('/storage', async (c) => c.json(unwrap(await scheduler(c.env).storageReport())))
  .get('/queue', async (c) => c.json(unwrap(await scheduler(c.env).queueReport())));
