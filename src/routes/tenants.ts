/** /v1/tenants: the admin makes tenants, sets their weights, and issues and revokes their tokens. */
import { Hono } from 'hono';
import type { AppEnv } from '../env.ts';
import { scheduler } from '../scheduler-stub.ts';
import { unwrap } from '../errors.ts';
import { readJson } from '../validate.ts';
import { adminOnly } from '../auth/principal.ts';
import { CreateTenantRequest, UpdateTenantRequest } from '../../protocol/index.ts';

export const tenants = new Hono<AppEnv>()
  .use(adminOnly)
  .post('/', async (c) => {
    const request = await readJson(c, CreateTenantRequest);
    return c.json(unwrap(await scheduler(c.env).createTenant(request)), 201);
  })
  .get('/', async (c) => c.json({ tenants: unwrap(await scheduler(c.env).listTenants()) }))
  .get('/:id', async (c) => c.json(unwrap(await scheduler(c.env).getTenant(c.req.param('id')))))
  .patch('/:id', async (c) => {
    const request = await readJson(c, UpdateTenantRequest);
    return c.json(unwrap(await scheduler(c.env).updateTenant(c.req.param('id'), request)));
  })
  .post('/:id/tokens', async (c) =>
    c.json(unwrap(await scheduler(c.env).createTenantToken(c.req.param('id'))), 201),
  )
  .delete('/:id/tokens/:tokenId', async (c) =>
    c.json(
      unwrap(await scheduler(c.env).revokeTenantToken(c.req.param('id'), c.req.param('tokenId'))),
    ),
  );
