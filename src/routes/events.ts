/**
 * GET /v1/events: the dashboard's live overview as server-sent events, in the caller's scope
 * (durable-objects/events.ts). Read it with a streamed fetch: EventSource cannot send the token.
 */
import { Hono } from 'hono';
import type { AppEnv } from '../env.ts';
import { scheduler } from '../scheduler-stub.ts';
import { ownerScope } from '../auth/principal.ts';
import { readQuery } from '../validate.ts';
import { EventsQuery } from '../../protocol/index.ts';

export const events = new Hono<AppEnv>().get('/', async (c) => {
  readQuery(c, EventsQuery);
  const owner = ownerScope(c);
  const params = new URLSearchParams(owner === null ? {} : { owner });
  const response = await scheduler(c.env).fetch(`https://scheduler/events?${params}`);
  return new Response(response.body, { status: response.status, headers: response.headers });
});
