/** /v1/tasks: list and read tasks, and read their whole results and their output. */
import { Hono } from 'hono';
import type { AppEnv } from '../env.ts';
import { scheduler } from '../scheduler-stub.ts';
import { unwrap } from '../errors.ts';
import { cursorKey, pathId, readQuery } from '../validate.ts';
import { ownerScope } from '../auth/principal.ts';
import { serveLogs } from './logs.ts';
import { ListTasksQuery } from '../../protocol/index.ts';

export const tasks = new Hono<AppEnv>()
  .get('/', async (c) => {
    const { cursor, ...query } = readQuery(c, ListTasksQuery);
    const before = cursorKey('tasks', cursor)?.[0];
    return c.json(unwrap(await scheduler(c.env).listTasks(ownerScope(c), { ...query, before })));
  })
  .get('/:id', async (c) =>
    c.json(unwrap(await scheduler(c.env).getTask(ownerScope(c), pathId(c, 'task')))),
  )
  .get('/:id/result', async (c) =>
    c.json(unwrap(await scheduler(c.env).getTaskResult(ownerScope(c), pathId(c, 'task')))),
  )
  .get('/:id/logs', (c) => serveLogs(c, { taskId: pathId(c, 'task') }));
