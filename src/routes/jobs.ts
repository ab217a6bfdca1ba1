/** /v1/jobs: submit, list, read and cancel jobs, and page their tasks and read their output. */
import { Hono } from 'hono';
import type { AppEnv } from '../env.ts';
import { scheduler } from '../scheduler-stub.ts';
import { badRequest, unwrap } from '../errors.ts';
import { checkBody, cursorKey, pathId, readJsonBody, readQuery } from '../validate.ts';
import { sqlJob } from '../sql/sql-job.ts';
import { ownerScope } from '../auth/principal.ts';
import { serveLogs } from './logs.ts';
import {
  JOB_KINDS,
  ResultQuery,
  JobQuery,
  JobTasksQuery,
  ListJobsQuery,
  isSqlBody,
  SubmitJobQuery,
  SubmitJobRequest,
} from '../../protocol/index.ts';

/** Names an unknown or missing kind plainly before the schema's own messages. */
function checkKind(json: unknown): void {
  const kind =
    typeof json === 'object' && json !== null ? (json as { kind?: unknown }).kind : undefined;
  if (kind === undefined) throw badRequest(`a job needs a "kind": one of ${JOB_KINDS.join(', ')}`);
  if (!JOB_KINDS.includes(kind as (typeof JOB_KINDS)[number])) {
    throw badRequest(
      `unknown job kind ${JSON.stringify(kind)}; expected one of ${JOB_KINDS.join(', ')}`,
    );
  }
}

export const jobs = new Hono<AppEnv>()
  .post('/', async (c) => {
    const { wait } = readQuery(c, SubmitJobQuery);
    const json = await readJsonBody(c);
    checkKind(json);
    const request = isSqlBody(json)
      ? await sqlJob(json, async () => unwrap(await scheduler(c.env).listStores()))
      : checkBody(json, SubmitJobRequest);
    const job = unwrap(await scheduler(c.env).submitJob(ownerScope(c), request, wait));
    return c.json(job, 202);
  })
  .get('/', async (c) => {
    const { cursor, ...query } = readQuery(c, ListJobsQuery);
    const before = cursorKey('jobs', cursor) ?? null;
    return c.json(unwrap(await scheduler(c.env).listJobs(ownerScope(c), { ...query, before })));
  })
  .get('/:id', async (c) => {
    const { tasks } = readQuery(c, JobQuery);
    return c.json(unwrap(await scheduler(c.env).getJob(ownerScope(c), pathId(c, 'job'), tasks)));
  })
  .get('/:id/tasks', async (c) => {
    const { cursor, ...query } = readQuery(c, JobTasksQuery);
    const after = cursorKey('job-tasks', cursor)?.[0];
    const id = pathId(c, 'job');
    return c.json(unwrap(await scheduler(c.env).jobTasks(ownerScope(c), id, { ...query, after })));
  })
  .post('/:id/cancel', async (c) => {
    return c.json(unwrap(await scheduler(c.env).cancelJob(ownerScope(c), pathId(c, 'job'))));
  })
  .get('/:id/logs', (c) => serveLogs(c, { jobId: pathId(c, 'job') }))
  .get('/:id/result', async (c) => {
    const { format, offset, limit } = readQuery(c, ResultQuery);
    const id = pathId(c, 'job');
    if (format === 'arrow') {
      const bytes = unwrap(await scheduler(c.env).resultArrow(ownerScope(c), id));
      return new Response(bytes, {
        headers: { 'content-type': 'application/vnd.apache.arrow.stream' },
      });
    }
    return c.json(unwrap(await scheduler(c.env).resultPage(ownerScope(c), id, offset, limit)));
  });
