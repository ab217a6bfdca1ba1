/** /v1/tasks: list and read tasks, and read their output. */
import { Hono } from 'hono';
import type { AppEnv } from '../env.ts';
import { scheduler } from '../scheduler-stub.ts';
import { unwrap } from '../errors.ts';
import { pathId, readQuery } from '../validate.ts';
import { ownerScope } from '../auth/principal.ts';
import { serveLogs } from './logs.ts';
import { ListTasksQuery } from '../../protocol/index.ts';

export const tasks = new Hono<AppEnv>()
  .get('/', async (c) => {
    const { state, limit } = readQuery(c, ListTasksQuery);
    return c.json({ tasks: unwrap(await scheduler(c.env).listTasks(ownerScope(c), state, limit)) });
  })
  .get('/:id', async (c) =>
    c.json(unwrap(await scheduler(c.env).getTask(ownerScope(c), pathId(c, 'task')))),
  )
  .get('/:id/logs', (c) => serveLogs(c, { taskId: pathId(c, 'task') }));
