/** GET /v1/health: the control plane and its Scheduler answer. */
import { Hono } from 'hono';
import type { AppEnv } from '../env.ts';
import { scheduler } from '../scheduler-stub.ts';
import { PROTOCOL_VERSION } from '../../protocol/index.ts';

export const health = new Hono<AppEnv>().get('/', async (c) => {
  const state = await scheduler(c.env).health();
  return c.json({
    ok: state.ok,
    protocolVersion: PROTOCOL_VERSION,
    connectedWorkers: state.connectedWorkers,
  });
});
