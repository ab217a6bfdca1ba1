/** /v1/object-stores: register, list, read and delete S3/R2 stores, and browse their objects. */
import { Hono } from 'hono';
import type { AppEnv } from '../env.ts';
import { scheduler } from '../scheduler-stub.ts';
import { adminOnly } from '../auth/principal.ts';
import { unwrap } from '../errors.ts';
import { readJson, readQuery } from '../validate.ts';
import { ListObjectsQuery, RegisterObjectStoreRequest } from '../../protocol/index.ts';

export const objectStores = new Hono<AppEnv>()
  .use(adminOnly)
  .post('/', async (c) => {
    const request = await readJson(c, RegisterObjectStoreRequest);
    const { store, created } = unwrap(await scheduler(c.env).registerStore(request));
    return c.json({ store, created }, created ? 201 : 200);
  })
  .get('/', async (c) => c.json({ objectStores: unwrap(await scheduler(c.env).listStores()) }))
  .get('/:id', async (c) => c.json(unwrap(await scheduler(c.env).getStore(c.req.param('id')))))
  .delete('/:id', async (c) =>
    c.json(unwrap(await scheduler(c.env).deleteStore(c.req.param('id')))),
  )
  .get('/:id/objects', async (c) => {
    const { prefix, cursor, limit } = readQuery(c, ListObjectsQuery);
    return c.json(
      unwrap(await scheduler(c.env).browseStore(c.req.param('id'), prefix, cursor, limit)),
    );
  });
