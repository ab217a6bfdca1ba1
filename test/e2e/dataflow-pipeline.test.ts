/**
 * End to end: a dataflow job's pipeline stage on wrangler dev with a real agent whose executor is
 * a stand-in script. Its instances are the tenant's pipeline's tasks, their data rendered from an
 * upstream's results, placed only on agents with the executor, and their results feed the next
 * stage. Bad pipeline stages are refused at submit with a message that names them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { startTestStack, type TestStack } from '../support/stack.ts';
import { eventually } from '../support/wait.ts';
import type { CreatedTenantToken, JobView } from '../../protocol/index.ts';
import { callApi } from '../support/http.ts';
import { GRANT_ALL } from '../support/tenants.ts';

let stack: TestStack;
let token: string;
const APP = 'text';

const http = <T>(bearer: string, method: string, path: string, body?: unknown) =>
  callApi<T>(stack.url, bearer, method, path, body);
const api = <T>(method: string, path: string, body?: unknown) => http<T>(token, method, path, body);

beforeAll(async () => {
  stack = await startTestStack({ agents: 1, slots: 2 });
  // "upper WORD": prints WORD in capitals.
  stack.writeScript('bin/upper', '#!/bin/sh\nprintf "%s" "$1" | tr a-z A-Z\n');
  const reply = await http<CreatedTenantToken>(stack.adminToken, 'POST', '/v1/tenants', {
    name: 'writer',
    permissions: GRANT_ALL,
  });
  expect(reply.status).toBe(201);
  token = reply.body.token;
  const defined = await api('POST', `/api/applications/${APP}/pipelines`, {
    name: 'shout',
    pipeline: [{ executor: 'upper', commands: ['upper {{word}}'] }],
  });
  expect(defined.status).toBe(201);
}, 180_000);
afterAll(async () => stack?.stop());

const flow = (shout: Record<string, unknown>) => ({
  kind: 'dataflow',
  stages: [
    { name: 'words', kind: 'command', command: 'printf "w$TM_INSTANCE-x"', parallelism: 2 },
    {
      name: 'shout',
      kind: 'pipeline',
      application: APP,
      pipeline: 'shout',
      dependsOn: ['words'],
      ...shout,
    },
    { name: 'joined', kind: 'command', command: 'echo "[$TM_INPUT_shout]"', dependsOn: ['shout'] },
  ],
});

const waitJob = (id: string) =>
  eventually(
    async () => {
      const { body } = await api<JobView>('GET', `/v1/jobs/${id}`);
      return ['succeeded', 'failed', 'cancelled'].includes(body.state) ? body : undefined;
    },
    `job ${id} to end`,
    60_000,
  );

describe('dataflow pipeline stages', () => {
  it('runs a pipeline stage on the agent with its executor, its data from upstream results', async () => {
    const submitted = await api<JobView>(
      'POST',
      '/v1/jobs',
      flow({ data: [{ word: '{{words.1}}' }, { word: 'a {{words.0}} b' }] }),
    );
    expect(submitted.status, JSON.stringify(submitted.body)).toBe(202);
    // No agent has the executor yet: the stage's tasks wait for one.
    const waiting = await eventually(async () => {
      const { body } = await api<JobView>('GET', `/v1/jobs/${submitted.body.id}`);
      const shout = body.stages?.find((s) => s.name === 'shout');
      return shout?.state === 'running' && shout.counts.queued === 2 ? body : undefined;
    }, 'the pipeline stage to wait for its executor');
    expect(waiting.stages?.find((s) => s.name === 'shout')?.parallelism).toBe(2);
    const agent = await stack.addAgent({
      args: ['--executor', `upper=${join(stack.workDir, 'bin', 'upper')}`],
      slots: 2,
    });
    const done = await waitJob(submitted.body.id);
    expect(done.state, JSON.stringify(done.stages)).toBe('succeeded');
    const shouts = done.tasks!.filter((t) => t.stage?.name === 'shout');
    expect(shouts.map((t) => t.kind)).toEqual(['pipeline', 'pipeline']);
    // Only the agent with the executor ran them.
    const workers = await stack.client.listWorkers();
    const upperId = workers.find((w) => w.address === agent.address)?.id;
    expect(shouts.every((t) => t.workerId === upperId)).toBe(true);
    const joined = done.tasks!.find((t) => t.stage?.name === 'joined');
    // Each instance's result is its result step's stdout, in instance order.
    expect(joined?.result).toBe('[W1-X\nA W0-X B]');
    // Their tasks belong to the dataflow job, not to the pipeline's own task list.
    const asPipelineTask = await api<{ error: { code: string } }>(
      'GET',
      `/api/applications/${APP}/pipelines/shout/tasks/${shouts[0]!.id}`,
    );
    expect(asPipelineTask.status).toBe(404);
  });

  it('gives every instance one data object when data is not a list', async () => {
    const submitted = await api<JobView>(
      'POST',
      '/v1/jobs',
      flow({ data: { word: '{{words}}' }, parallelism: 2 }),
    );
    expect(submitted.status).toBe(202);
    const done = await waitJob(submitted.body.id);
    expect(done.state, JSON.stringify(done.stages)).toBe('succeeded');
    const joined = done.tasks!.find((t) => t.stage?.name === 'joined');
    expect(joined?.result).toBe('[W0-X\nW1-X\nW0-X\nW1-X]');
  });

  it('refuses bad pipeline stages at submit, naming the stage and the problem', async () => {
    const cases: [Record<string, unknown>, number, RegExp][] = [
      [
        { data: { word: '{{nowhere}}' } },
        400,
        /"shout": \{\{nowhere\}\} names no stage it depends on/,
      ],
      [{ data: {} }, 400, /stage "shout": variable "word" is missing from the task data/],
      [
        { data: [{ word: 'a' }], parallelism: 3 },
        400,
        /"shout" has parallelism 3 but 1 data items/,
      ],
      [{ data: { word: 'a' }, pipeline: 'nothing' }, 404, /nothing/],
      [
        { data: { word: 'a' }, streamFrom: ['words'], dependsOn: [] },
        400,
        /stream edge into a batch-only stage: "shout" is pipeline/,
      ],
    ];
    for (const [shout, status, message] of cases) {
      const reply = await api<{ error: { message: string } }>('POST', '/v1/jobs', flow(shout));
      expect(reply.status, JSON.stringify(shout)).toBe(status);
      expect(reply.body.error.message, JSON.stringify(shout)).toMatch(message);
    }
    // Pipelines belong to tenants: the admin's token names none.
    const admin = await http<{ error: { message: string } }>(
      stack.adminToken,
      'POST',
      '/v1/jobs',
      flow({ data: { word: 'a' } }),
    );
    expect(admin.status).toBe(400);
    expect(admin.body.error.message).toMatch(/pipelines belong to tenants/);
  });

  it('refuses a pipeline stage to a tenant without the pipeline grant', async () => {
    const { status, body } = await http<CreatedTenantToken>(
      stack.adminToken,
      'POST',
      '/v1/tenants',
      {
        name: 'no-pipelines',
        permissions: { ...GRANT_ALL, jobKinds: ['command'] },
      },
    );
    expect(status).toBe(201);
    const reply = await http<{ error: { message: string } }>(
      body.token,
      'POST',
      '/v1/jobs',
      flow({ data: { word: 'a' } }),
    );
    expect(reply.status).toBe(403);
    expect(reply.body.error.message).toMatch(/pipeline/);
  });
});
