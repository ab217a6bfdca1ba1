/** /v1/workers: register, list, read, approve and deregister workers. */
import { Hono } from 'hono';
import type { AppEnv } from '../env.ts';
import { scheduler } from '../scheduler-stub.ts';
import { adminOnly } from '../auth/principal.ts';
import { unwrap } from '../errors.ts';
import { pathId, readJson, readQuery } from '../validate.ts';
import { DeregisterQuery, ListWorkersQuery, RegisterWorkerRequest } from '../../protocol/index.ts';

export const workers = new Hono<AppEnv>()
  .use(adminOnly)
  .post('/', async (c) => {
    const request = await readJson(c, RegisterWorkerRequest);
    const registered = unwrap(await scheduler(c.env).registerWorker(request));
    return c.json(registered, registered.created ? 201 : 200);
  })
  .get('/', async (c) => {
    const { state } = readQuery(c, ListWorkersQuery);
    return c.json({ workers: unwrap(await scheduler(c.env).listWorkers(state)) });
  })
  .get('/:id', async (c) => {
    return c.json(unwrap(await scheduler(c.env).getWorker(pathId(c, 'worker'))));
  })
  .post('/:id/approve', async (c) => {
    return c.json(unwrap(await scheduler(c.env).approveWorker(pathId(c, 'worker'))));
  })
  .delete('/:id', async (c) => {
    const { force } = readQuery(c, DeregisterQuery);
    const worker = unwrap(
      await scheduler(c.env).deregisterWorker(pathId(c, 'worker'), force === 'true'),
    );
    return c.json(worker, worker.state === 'gone' ? 200 : 202);
  });
