/** GET /v1/agent/connect: an agent's WebSocket, admitted with a join token and handed to the Scheduler. */
import { Hono } from 'hono';
import type { AppEnv } from '../env.ts';
import { scheduler } from '../scheduler-stub.ts';
import { ApiError } from '../errors.ts';
import { bearerToken, sameSecret } from '../auth/tokens.ts';

export const agent = new Hono<AppEnv>().get('/connect', async (c) => {
  if (c.req.header('upgrade')?.toLowerCase() !== 'websocket') {
    throw new ApiError({
      status: 400,
      code: 'bad_request',
      message: 'expected a WebSocket upgrade',
    });
  }
  const token = bearerToken(c.req.header('authorization'));
  if (!token)
    throw new ApiError({
      status: 401,
      code: 'unauthorized',
      message: 'a join token is required (Authorization: Bearer …)',
    });
  // Only headers built here reach the Scheduler, so a client cannot claim to be authenticated.
  const headers = new Headers({ upgrade: 'websocket' });
  if (c.env.TM_JOIN_TOKEN && (await sameSecret(token, c.env.TM_JOIN_TOKEN)))
    headers.set('x-tm-auth', 'cluster');
  else headers.set('x-tm-worker-token', token);
  const response = await scheduler(c.env).fetch('https://scheduler/agent', { headers });
  if (response.status === 401)
    throw new ApiError({ status: 401, code: 'unauthorized', message: 'invalid join token' });
  return response;
});
