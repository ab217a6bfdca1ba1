/** GET /v1/whoami: whom the request's token speaks for, so a client can check its token. */
import { Hono } from 'hono';
import type { AppEnv } from '../env.ts';
import { principalOf } from '../auth/principal.ts';

export const whoami = new Hono<AppEnv>().get('/', (c) => c.json(principalOf(c)));
