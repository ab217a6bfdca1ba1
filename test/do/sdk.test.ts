/** The TypeScript SDK inside workerd: the same TmClient the CLI uses runs in a Worker. */
import { afterEach, describe, expect, it } from 'vitest';
import { SELF } from 'cloudflare:test';
import { TmClient } from '../../cli/sdk/client.ts';
import { TmApiError } from '../../cli/sdk/errors.ts';
import {
  ADMIN_TOKEN,
  assignmentOf,
  cleanUp,
  complete,
  joinAgent,
  uniqueAddress,
} from './helpers.ts';

afterEach(cleanUp);

const client = (token = ADMIN_TOKEN) =>
  new TmClient('http://scheduler.test', {
    token,
    fetch: (input, init) => SELF.fetch(input as string, init),
  });

const uniqueName = (prefix: string) => `${prefix}-${crypto.randomUUID().slice(0, 8)}`;

/** A fresh tenant made through the SDK, and a client that speaks with its token. */
async function tenantClient() {
  const permissions = { executors: ['echo'] };
  const created = await client().createTenant({ name: uniqueName('t'), permissions });
  return { created, sdk: client(created.token) };
}

const ECHO = {
  name: 'echo',
  pipeline: [{ executor: 'echo', commands: ['echo {{word}}'] }],
};

/** What an agent reports for a task of ECHO that printed `output`. */
const echoResult = (output: string) => ({
  steps: [
    {
      name: 'echo',
      executor: 'echo',
      exitCode: 0,
      output,
      truncated: false,
      startedAt: '2026-01-01T00:00:00.000Z',
      finishedAt: '2026-01-01T00:00:01.000Z',
    },
  ],
  result: output,
});

describe('TmClient in a Worker', () => {
  it('registers, submits, follows a job to its end and reads the history, all validated by the protocol schemas', async () => {
    const sdk = client();
    const registered = await sdk.registerWorker({ address: uniqueAddress() });
    expect(registered.created).toBe(true);
    expect((await sdk.getWorker(registered.worker.id)).state).toBe('pending');

    const { agent } = await joinAgent();
    const job = await sdk.submitJob({ kind: 'echo', payload: { from: 'a worker' } });
    const task = await assignmentOf(agent, job.id);
    complete(agent, task, { from: 'a worker' });

    const done = await sdk.waitJob(job.id, 5000, 20);
    expect(done).toMatchObject({ state: 'succeeded', attempts: { succeeded: 1 } });
    const view = await sdk.getTask(task.taskId);
    expect(view.result).toEqual({ from: 'a worker' });
    expect(view.history).toMatchObject([{ attempt: 1, outcome: 'succeeded' }]);
  });

  it("pages a job's tasks and tasks across jobs, and reads a whole result", async () => {
    const sdk = client();
    const { agent } = await joinAgent();
    const payload = 'p'.repeat(70 * 1024);
    const job = await sdk.submitJob({ kind: 'echo', payload, count: 3 });
    const frame = await agent.nextFrame('assign');
    for (const task of frame.tasks) complete(agent, task, payload);
    await sdk.waitJob(job.id, 5000, 20);
    const first = await sdk.jobTasksPage(job.id, { limit: 2 });
    expect(first.tasks.map((task) => task.index)).toEqual([0, 1]);
    expect(first.tasks[0]).toMatchObject({ result: null, resultOmitted: true });
    const rest = await sdk.jobTasksPage(job.id, { limit: 2, cursor: first.next ?? '' });
    expect(rest).toMatchObject({ tasks: [{ index: 2 }], next: null });
    const all = [];
    for await (const task of sdk.jobTasks(job.id, { limit: 1 })) all.push(task.index);
    expect(all).toEqual([0, 1, 2]);
    const across = [];
    for await (const task of sdk.tasks({ state: 'succeeded', limit: 2 }))
      if (task.jobId === job.id) across.push(task.index);
    expect(across).toEqual([2, 1, 0]);
    expect((await sdk.getTaskResult(first.tasks[0]!.id)).result).toBe(payload);
    const jobs = await sdk.jobsPage({ limit: 1 });
    expect(jobs.jobs).toHaveLength(1);
  });

  it('raises the API error with its status and code', async () => {
    const error = await client()
      .getJob(crypto.randomUUID())
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TmApiError);
    expect(error).toMatchObject({ status: 404, code: 'not_found' });
  });
});

describe('TmClient: tenants', () => {
  it('makes a tenant whose token speaks for it, rotates and revokes tokens, sets the weight', async () => {
    const admin = client();
    const { created, sdk } = await tenantClient();
    const name = created.tenant.name;
    expect(await admin.whoami()).toEqual({ kind: 'admin' });
    expect(await sdk.whoami()).toEqual({
      kind: 'tenant',
      tenantId: created.tenant.id,
      tenantName: name,
    });

    const rotated = await admin.createTenantToken(name);
    expect(rotated.tokenId).not.toBe(created.tokenId);
    expect(rotated.tenant.tokens.map((t) => t.id).sort()).toEqual(
      [created.tokenId, rotated.tokenId].sort(),
    );
    const afterRevoke = await admin.revokeTenantToken(name, created.tokenId);
    expect(afterRevoke.tokens.map((t) => t.id)).toEqual([rotated.tokenId]);
    expect(await sdk.whoami().catch((e: unknown) => e)).toMatchObject({ status: 401 });
    expect(await client(rotated.token).whoami()).toMatchObject({ tenantName: name });

    expect((await admin.setTenantWeight(name, 7)).weight).toBe(7);
    expect((await admin.getTenant(created.tenant.id)).weight).toBe(7);
    const listed = (await admin.listTenants()).find((t) => t.id === created.tenant.id);
    expect(listed).toMatchObject({ name, weight: 7 });
  });

  it('refuses the cluster routes to a tenant token with 403', async () => {
    const { sdk } = await tenantClient();
    expect(await sdk.listWorkers().catch((e: unknown) => e)).toMatchObject({
      status: 403,
      code: 'forbidden',
    });
  });
});

describe('TmClient: applications and pipelines', () => {
  it('defines, lists, submits one task and a waited-for batch, reads tasks and deletes', async () => {
    const { sdk } = await tenantClient();
    const app = uniqueName('app');
    const defined = await sdk.putPipeline(app, ECHO);
    expect(defined).toMatchObject({ application: app, name: 'echo', version: 1 });
    await sdk.putPipeline(app, { ...ECHO, maxConcurrency: 3 });
    expect((await sdk.getPipeline(app, 'echo')).latestVersion).toBe(2);
    expect((await sdk.getPipeline(app, 'echo', 1)).definition.maxConcurrency).toBe(100);
    expect((await sdk.listApplications()).map((a) => a.name)).toEqual([app]);
    expect((await sdk.getApplication(app)).pipelines).toMatchObject([{ name: 'echo', version: 2 }]);

    const { agent } = await joinAgent(undefined, { executors: ['echo'] });
    const one = await sdk.submitPipelineTasks(app, 'echo', { word: 'hi' });
    expect(one).toMatchObject({ version: 2, taskIds: [expect.any(String)] });
    complete(agent, await assignmentOf(agent, one.jobId), echoResult('hi\n'));
    await sdk.waitJob(one.jobId, 5000, 20);
    const task = await sdk.getPipelineTask(app, 'echo', one.taskIds[0]!);
    expect(task).toMatchObject({ state: 'succeeded', result: 'hi\n', data: { word: 'hi' } });

    const batch = sdk.submitPipelineTasks(app, 'echo', [{ word: 'a' }, { word: 'b' }], 10);
    for (let done = 0; done < 2;) {
      const frame = await agent.nextFrame('assign');
      for (const assigned of frame.tasks) complete(agent, assigned, echoResult('x\n'));
      done += frame.tasks.length;
    }
    const waited = await batch;
    expect(waited.tasks.map((t) => t.state)).toEqual(['succeeded', 'succeeded']);

    expect((await sdk.deletePipeline(app, 'echo')).name).toBe('echo');
    expect(await sdk.getPipeline(app, 'echo').catch((e: unknown) => e)).toMatchObject({
      status: 404,
    });
  });
});
