/** GET /v1/throughput: tasks ended per time bucket, the caller's own (all of them for the admin). */
import { Hono } from 'hono';
import type { AppEnv } from '../env.ts';
import { scheduler } from '../scheduler-stub.ts';
import { unwrap } from '../errors.ts';
import { readQuery } from '../validate.ts';
import { ownerScope } from '../auth/principal.ts';
import { ThroughputQuery } from '../../protocol/index.ts';

export const throughput = new Hono<AppEnv>().get('/', async (c) => {
  const { minutes = 10 } = readQuery(c, ThroughputQuery);
  return c.json(unwrap(await scheduler(c.env).throughput(ownerScope(c), minutes)));
});
