/** GET /v1/openapi.json: the API's OpenAPI 3.1 document, generated from the protocol schemas. */
import { Hono } from 'hono';
import type { AppEnv } from '../env.ts';
import { openApiJson } from '../openapi/document.ts';

export const openapi = new Hono<AppEnv>().get('/', (c) =>
  c.body(openApiJson(), 200, {
    'content-type': 'application/json; charset=utf-8',
    // It changes only with a deployment.
    'cache-control': 'public, max-age=3600',
  }),
);
