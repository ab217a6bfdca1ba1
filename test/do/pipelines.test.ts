/**
 * Applications and pipelines against the real Scheduler: definitions and versions, submitting
 * tasks, placement on agents with the right executors, caps, load figures, tenant scoping.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  type ApplicationView,
  type Assignment,
  type CreatedTenantToken,
  type PipelineSubmission,
  type PipelineTaskView,
  type PipelineView,
} from '../../protocol/index.ts';
import {
  ADMIN_TOKEN,
  api,
  assignmentOf,
  cleanUp,
  complete,
  fail,
  getJob,
  getWorker,
  joinAgent,
  query,
  submitJob,
  type TestAgent,
  conforms,
} from './helpers.ts';
import { GRANT_ALL } from '../support/tenants.ts';

afterEach(cleanUp);

type ErrorReply = { error: { code: string; message: string; details?: unknown } };

/** A tenant made by the admin, with the token it calls the API with. */
interface Tenant {
  id: string;
  token: string;
}

async function newTenant(): Promise<Tenant> {
  const name = `t-${crypto.randomUUID().slice(0, 8)}`;
  const { status, body } = await api<CreatedTenantToken>('POST', '/v1/tenants', {
    name,
    permissions: GRANT_ALL,
  });
  if (status !== 201) throw new Error(`create tenant: ${status} ${JSON.stringify(body)}`);
  return { id: body.tenant.id, token: body.token };
}

/** Calls /api/applications<path> as the tenant. */
const call = <T = unknown>(tenant: Tenant, method: string, path: string, body?: unknown) =>
  api<T>(method, `/api/applications${path}`, body, tenant.token);

const OCR = {
  name: 'ocr',
  pipeline: [
    { executor: 'wget', commands: ['wget -O {{workdir}}/image.png {{url}}'] },
    {
      executor: 'tesseract',
      commands: [
        'tesseract {{workdir}}/image.png {{workdir}}/result',
        'cat {{workdir}}/result.txt',
      ],
    },
  ],
};
const OCR_EXECUTORS = ['tesseract', 'wget'];

let appCounter = 0;
/** A tenant with a fresh application holding the OCR pipeline (with `over` applied). */
async function ocrApp(over: Record<string, unknown> = {}) {
  const tenant = await newTenant();
  const app = `app-${Date.now().toString(36)}-${appCounter++}`;
  const created = await call<PipelineView>(tenant, 'POST', `/${app}/pipelines`, {
    ...OCR,
    ...over,
  });
  expect(created.status).toBe(201);
  const submit = async (data: unknown, wait?: number) => {
    const reply = await call<PipelineSubmission>(
      tenant,
      'POST',
      `/${app}/pipelines/ocr${wait === undefined ? '' : `?wait=${wait}`}`,
      data,
    );
    if (reply.status !== 202)
      throw new Error(`submit: ${reply.status} ${JSON.stringify(reply.body)}`);
    return reply.body;
  };
  const task = async (id: string) =>
    (await call<PipelineTaskView>(tenant, 'GET', `/${app}/pipelines/ocr/tasks/${id}`)).body;
  const pipeline = async () =>
    (await call<PipelineView>(tenant, 'GET', `/${app}/pipelines/ocr`)).body;
  return { tenant, app, pipeline: created.body, submit, task, view: pipeline };
}

const assignment = async (agent: TestAgent, jobId: string) => {
  const task = await assignmentOf(agent, jobId);
  if (task.spec.kind !== 'pipeline')
    throw new Error(`expected a pipeline spec, got ${task.spec.kind}`);
  return task as Assignment & { spec: Extract<Assignment['spec'], { kind: 'pipeline' }> };
};

/** The first `count` tasks assigned to the agent, from however many frames they came in. */
async function assignedTasks(agent: TestAgent, count: number): Promise<Assignment[]> {
  const tasks: Assignment[] = [];
  while (tasks.length < count) tasks.push(...(await agent.nextFrame('assign')).tasks);
  return tasks;
}

const result = (output: string) => ({
  steps: [
    {
      name: 'wget',
      executor: 'wget',
      exitCode: 0,
      output: 'fetched\n',
      truncated: false,
      startedAt: '2026-01-01T00:00:00.000Z',
      finishedAt: '2026-01-01T00:00:01.000Z',
    },
    {
      name: 'tesseract',
      executor: 'tesseract',
      exitCode: 0,
      output,
      truncated: false,
      startedAt: '2026-01-01T00:00:01.000Z',
      finishedAt: '2026-01-01T00:00:02.000Z',
    },
  ],
  result: output,
});

describe('defining pipelines', () => {
  it('creates a pipeline as version 1, keeps identical definitions, versions changes', async () => {
    const { tenant, app, pipeline } = await ocrApp();
    expect(pipeline).toMatchObject({
      application: app,
      name: 'ocr',
      version: 1,
      latestVersion: 1,
      executors: OCR_EXECUTORS,
      definition: {
        result: 'tesseract',
        maxConcurrency: 100,
        targetQueueSeconds: 60,
        pipeline: [
          { name: 'wget', executor: 'wget' },
          { name: 'tesseract', executor: 'tesseract' },
        ],
      },
      stats: { queued: 0, running: 0, wantedSlots: 0, wantedAgents: 0, readyAgents: 0 },
    });

    const same = await call<PipelineView>(tenant, 'POST', `/${app}/pipelines`, OCR);
    expect(same.status).toBe(200);
    expect(same.body.version).toBe(1);

    const changed = await call<PipelineView>(tenant, 'POST', `/${app}/pipelines`, {
      ...OCR,
      maxConcurrency: 2,
    });
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({
      version: 2,
      latestVersion: 2,
      definition: { maxConcurrency: 2 },
    });

    const first = await call<PipelineView>(tenant, 'GET', `/${app}/pipelines/ocr?version=1`);
    expect(first.body).toMatchObject({
      version: 1,
      latestVersion: 2,
      definition: { maxConcurrency: 100 },
    });
    expect((await call(tenant, 'GET', `/${app}/pipelines/ocr?version=3`)).status).toBe(404);
    expect((await call(tenant, 'GET', `/${app}/pipelines/ocr?version=x`)).status).toBe(400);
  });

  it('lists applications and pipelines', async () => {
    const { tenant, app } = await ocrApp();
    const second = { name: 'echo', pipeline: [{ executor: 'echo', commands: ['echo {{x}}'] }] };
    expect((await call(tenant, 'POST', `/${app}/pipelines`, second)).status).toBe(201);
    const apps = await call<{ applications: ApplicationView[] }>(tenant, 'GET', '');
    expect(apps.body.applications).toEqual([
      {
        name: app,
        createdAt: expect.any(String),
        pipelines: [
          { name: 'echo', version: 1, updatedAt: expect.any(String) },
          { name: 'ocr', version: 1, updatedAt: expect.any(String) },
        ],
      },
    ]);
    const one = await call<ApplicationView>(tenant, 'GET', `/${app}`);
    expect(one.body).toEqual(apps.body.applications[0]);
    const list = await call<{ pipelines: PipelineView[] }>(tenant, 'GET', `/${app}/pipelines`);
    expect(list.body.pipelines.map((p) => p.name)).toEqual(['echo', 'ocr']);
  });

  it('refuses bad definitions with messages that say what and where', async () => {
    const tenant = await newTenant();
    const bad = async (body: unknown, app = 'bad') => {
      const reply = await call<ErrorReply>(tenant, 'POST', `/${app}/pipelines`, body);
      expect(reply.status).toBe(400);
      return reply.body.error.message;
    };
    expect(await bad({ ...OCR, colour: 'red' })).toBe('unknown field in request body: colour');
    expect(await bad({ name: 'x', pipeline: [] })).toBe(
      'invalid request body at pipeline: a pipeline needs at least one step',
    );
    expect(await bad({ name: 'x', pipeline: [{ executor: 'wget', commands: [] }] })).toBe(
      'invalid request body at pipeline.0.commands: a step needs at least one command',
    );
    expect(
      await bad({
        name: 'x',
        pipeline: [
          { executor: 'wget', commands: ['wget {{url}}'] },
          { executor: 'tesseract', commands: ['tesseract {{workdir}}/a - | tee out'] },
        ],
      }),
    ).toMatch(
      /^invalid request body at pipeline\.1\.commands\.0: step 2 "tesseract", command 1: `\|` would be a pipe in a shell, but commands run without a shell/,
    );
    expect(
      await bad({ name: 'x', pipeline: [{ executor: 'sh', commands: ['rm $(ls)'] }] }),
    ).toContain('`$(` would be a command substitution');
    expect(
      await bad({ name: 'x', pipeline: [{ executor: 'sh', commands: ['{{prog}} x'] }] }),
    ).toContain('task data must never choose what runs');
    expect(await bad({ ...OCR, name: 'Bad Name' })).toContain('invalid request body at name');
    expect(await bad(OCR, 'Bad App')).toContain('invalid application name "Bad App"');
    const json = await call<ErrorReply>(tenant, 'POST', '/bad/pipelines', '{"name":');
    expect(json.status).toBe(400);
    expect(json.body.error.code).toBe('invalid_json');
    // Nothing was stored by the refusals.
    expect((await call(tenant, 'GET', '/bad')).status).toBe(404);
  });

  it('reads a definition from a store only if the store exists', async () => {
    const tenant = await newTenant();
    // Granted, so the store's existence is what is checked (an ungranted store is a 403).
    const stores = [{ store: 'no-such-store', read: [''], write: [] }];
    await api('PATCH', `/v1/tenants/${tenant.id}`, { permissions: { stores } });
    const unknown = await call<ErrorReply>(tenant, 'POST', '/stored/pipelines', {
      name: 'ocr',
      from: { store: 'no-such-store', key: 'pipelines/ocr.json' },
    });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.message).toContain(
      'unknown object store "no-such-store" in from.store',
    );
    const mixed = await call<ErrorReply>(tenant, 'POST', '/stored/pipelines', {
      ...OCR,
      from: { store: 'x', key: 'y' },
    });
    expect(mixed.status).toBe(400);
    expect(mixed.body.error.message).toBe('unknown field in request body: pipeline');
  });
});

describe('submitting tasks', () => {
  it('submits one task as a job of kind pipeline that waits for an agent with the executors', async () => {
    const { submit, task, tenant } = await ocrApp();
    const submitted = await submit({ url: 'http://example.com/a.png' });
    expect(submitted).toMatchObject({ pipeline: 'ocr', version: 1, taskIds: [expect.any(String)] });
    const [queued] = submitted.tasks;
    expect(queued).toMatchObject({
      id: submitted.taskIds[0],
      state: 'queued',
      version: 1,
      data: { url: 'http://example.com/a.png' },
      result: null,
      waiting: 'no ready agent has executors tesseract, wget',
      steps: [
        { name: 'wget', executor: 'wget', state: 'pending', exitCode: null, output: null },
        {
          name: 'tesseract',
          executor: 'tesseract',
          state: 'pending',
          exitCode: null,
          output: null,
        },
      ],
    });
    const job = await getJob(submitted.jobId);
    expect(job).toMatchObject({ kind: 'pipeline', state: 'queued', counts: { queued: 1 } });
    const rows = await query<{ tenant_id: string; pipeline_id: string; requires: string }>(
      `SELECT tenant_id, pipeline_id, requires FROM tasks WHERE id = ?`,
      submitted.taskIds[0] ?? '',
    );
    expect(rows[0]).toMatchObject({
      tenant_id: tenant.id,
      requires: JSON.stringify(OCR_EXECUTORS),
    });

    const { agent: wgetOnly } = await joinAgent(undefined, { executors: ['wget'] });
    await wgetOnly.sync();
    expect((await task(submitted.taskIds[0] ?? '')).waiting).toBe(
      'no ready agent has executor tesseract',
    );

    const { agent, workerId } = await joinAgent(undefined, {
      executors: ['wget', 'tesseract', 'ffmpeg'],
    });
    expect((await getWorker(workerId)).executors).toEqual(['wget', 'tesseract', 'ffmpeg']);
    const assigned = await assignment(agent, submitted.jobId);
    expect(assigned.spec).toEqual({
      kind: 'pipeline',
      application: expect.any(String),
      pipeline: 'ocr',
      version: 1,
      steps: OCR.pipeline.map((step) => ({ ...step, name: step.executor })),
      result: 'tesseract',
      data: { url: 'http://example.com/a.png' },
    });
    await wgetOnly.sync();
    expect(wgetOnly.received.some((f) => f.type === 'assign')).toBe(false);

    agent.send({
      type: 'progress',
      tasks: [
        {
          taskId: assigned.taskId,
          attempt: assigned.attempt,
          steps: [
            {
              name: 'wget',
              executor: 'wget',
              state: 'succeeded',
              exitCode: 0,
              startedAt: 'a',
              finishedAt: 'b',
            },
            {
              name: 'tesseract',
              executor: 'tesseract',
              state: 'running',
              exitCode: null,
              startedAt: 'b',
              finishedAt: null,
            },
          ],
        },
      ],
    });
    await agent.sync();
    const running = await task(assigned.taskId);
    expect(running).toMatchObject({ state: 'assigned', waiting: null, workerId });
    expect(running.steps.map((s) => [s.state, s.exitCode, s.startedAt])).toEqual([
      ['succeeded', 0, 'a'],
      ['running', null, 'b'],
    ]);

    complete(agent, assigned, result('HELLO OCR\n'));
    await agent.sync();
    const done = await task(assigned.taskId);
    expect(done).toMatchObject({ state: 'succeeded', result: 'HELLO OCR\n', exitCode: 0 });
    expect(done.steps.map((s) => [s.name, s.state, s.output])).toEqual([
      ['wget', 'succeeded', 'fetched\n'],
      ['tesseract', 'succeeded', 'HELLO OCR\n'],
    ]);
    expect((await getJob(submitted.jobId)).state).toBe('succeeded');
  });

  it('submits a batch as one job with a task per item, in order', async () => {
    const { submit } = await ocrApp();
    const urls = ['a', 'b', 'c'].map((x) => `http://example.com/${x}.png`);
    const submitted = await submit(urls.map((url) => ({ url, n: 1, flag: true })));
    expect(submitted.taskIds).toHaveLength(3);
    expect(submitted.tasks.map((t) => [t.index, t.data])).toEqual(
      urls.map((url, index) => [index, { url, n: '1', flag: 'true' }]),
    );
    expect((await getJob(submitted.jobId)).counts.queued).toBe(3);
  });

  it("gives each submission's job the pipeline's retention, and refuses one over the cluster's", async () => {
    const { submit } = await ocrApp({ retentionSeconds: 60 });
    const submitted = await submit({ url: 'http://example.com/a.png', n: 1, flag: true });
    expect(await query(`SELECT retention_ms FROM jobs WHERE id = ?`, submitted.jobId)).toEqual([
      { retention_ms: 60_000 },
    ]);
    const { tenant, app } = await ocrApp({ retentionSeconds: 30 * 24 * 3600 });
    const refused = await call<ErrorReply>(tenant, 'POST', `/${app}/pipelines/ocr`, {
      url: 'http://example.com/a.png',
      n: 1,
      flag: true,
    });
    expect(refused.status).toBe(400);
    expect(refused.body.error.message).toContain('604800 s, TM_RETENTION_SECONDS');
  });

  it('refuses data without a variable the commands use, naming it and the step', async () => {
    const { tenant, app } = await ocrApp();
    const single = await call<ErrorReply>(tenant, 'POST', `/${app}/pipelines/ocr`, { uri: 'x' });
    expect(single.status).toBe(400);
    expect(single.body.error.message).toBe(
      'variable "url" is missing from the task data; step 1 "wget", command 1 uses it',
    );
    expect(single.body.error.details).toEqual({ task: 0, variable: 'url', step: 'wget' });
    const batch = await call<ErrorReply>(tenant, 'POST', `/${app}/pipelines/ocr`, [
      { url: 'a' },
      {},
    ]);
    expect(batch.status).toBe(400);
    expect(batch.body.error.message).toMatch(/^task 1 of the batch: variable "url" is missing/);
    const reserved = await call<ErrorReply>(tenant, 'POST', `/${app}/pipelines/ocr`, {
      url: 'a',
      workdir: '/',
    });
    expect(reserved.status).toBe(400);
    expect(reserved.body.error.message).toContain('{{workdir}} is set by the agent');
    for (const body of ['"text"', '[]', '[1]', '{"url":{"nested":1}}']) {
      expect((await call(tenant, 'POST', `/${app}/pipelines/ocr`, body)).status, body).toBe(400);
    }
    const jobs = await query(`SELECT id FROM jobs WHERE name = ?`, `${app}/ocr`);
    expect(jobs).toEqual([]);
    expect((await call(tenant, 'POST', `/${app}/pipelines/nope`, { url: 'a' })).status).toBe(404);
  });

  it('runs each task with the version it was submitted to', async () => {
    const { tenant, app, submit } = await ocrApp();
    const old = await submit({ url: 'old' });
    const v2 = {
      ...OCR,
      pipeline: [
        { executor: 'wget', commands: ['wget --v2 -O {{workdir}}/x {{url}}'] },
        ...OCR.pipeline.slice(1),
      ],
    };
    expect((await call<PipelineView>(tenant, 'POST', `/${app}/pipelines`, v2)).body.version).toBe(
      2,
    );
    const fresh = await submit({ url: 'new' });
    expect([old.version, fresh.version]).toEqual([1, 2]);
    const { agent } = await joinAgent(undefined, { executors: OCR_EXECUTORS });
    const sent = await assignedTasks(agent, 2);
    const commandsOf = (jobId: string) => {
      const spec = sent.find((t) => t.jobId === jobId)?.spec;
      return spec?.kind === 'pipeline' ? spec.steps[0]?.commands : undefined;
    };
    expect(commandsOf(old.jobId)).toEqual(OCR.pipeline[0]?.commands);
    expect(commandsOf(fresh.jobId)).toEqual(v2.pipeline[0]?.commands);
  });

  it('runs a failed step again with the job policy, then fails the task with its error', async () => {
    const { submit, task } = await ocrApp({ retries: 1, retryBackoff: { initialSeconds: 0 } });
    const submitted = await submit({ url: 'x' });
    const { agent } = await joinAgent(undefined, { executors: OCR_EXECUTORS });
    const first = await assignment(agent, submitted.jobId);
    fail(agent, first, 'step 2 "tesseract", command 1: exited with code 1');
    const second = await assignment(agent, submitted.jobId);
    expect(second.attempt).toBe(2);
    fail(agent, second, 'step 2 "tesseract", command 1: exited with code 1');
    await agent.sync();
    expect(await task(first.taskId)).toMatchObject({
      state: 'failed',
      attempt: 2,
      result: null,
      error: 'step 2 "tesseract", command 1: exited with code 1',
    });
  });
});

describe('scaling', () => {
  it('never runs more tasks of a pipeline than its maxConcurrency, and says so', async () => {
    const { submit, task, view } = await ocrApp({ maxConcurrency: 1 });
    const submitted = await submit([{ url: 'a' }, { url: 'b' }, { url: 'c' }]);
    const { agent } = await joinAgent(undefined, { executors: OCR_EXECUTORS });
    const first = await assignment(agent, submitted.jobId);
    await agent.sync();
    expect(agent.received.filter((f) => f.type === 'assign')).toHaveLength(1);
    const waiting = submitted.taskIds.filter((id) => id !== first.taskId);
    expect((await task(waiting[0] ?? '')).waiting).toBe(
      'the pipeline runs at most 1 tasks at once (maxConcurrency), and 1 are running',
    );
    expect((await view()).stats).toMatchObject({
      queued: 2,
      running: 1,
      readyAgents: 1,
      slotsPerAgent: 4,
    });

    complete(agent, first, result('a'));
    const second = await assignment(agent, submitted.jobId);
    expect(waiting).toContain(second.taskId);
    await agent.sync();
    expect(agent.received.filter((f) => f.type === 'assign')).toHaveLength(2);
  });

  it('does not let tasks no agent can run hold back other work', async () => {
    const { submit } = await ocrApp();
    const blocked = await submit(Array.from({ length: 8 }, (_, i) => ({ url: `u${i}` })));
    const { agent } = await joinAgent(undefined, { executors: ['wget'], slots: 2 });
    const job = await submitJob({ kind: 'command', command: 'true' });
    expect((await assignmentOf(agent, job.id)).jobId).toBe(job.id);
    expect(
      agent.received.some(
        (f) => f.type === 'assign' && f.tasks.some((t) => t.jobId === blocked.jobId),
      ),
    ).toBe(false);
  });

  it('reports the queue, the running tasks and how many agents it wants', async () => {
    const { submit, view } = await ocrApp({ targetQueueSeconds: 10, maxConcurrency: 50 });
    await submit(Array.from({ length: 20 }, (_, i) => ({ url: `u${i}` })));
    // No task has finished: each queued task wants a slot.
    expect((await view()).stats).toMatchObject({
      queued: 20,
      running: 0,
      meanTaskSeconds: null,
      wantedSlots: 20,
      wantedAgents: 20,
      throughputPerMinute: 0,
    });
    const { agent } = await joinAgent(undefined, { executors: OCR_EXECUTORS, slots: 4 });
    for (const t of await assignedTasks(agent, 4)) complete(agent, t, result('x'));
    await agent.sync();
    const stats = (await view()).stats;
    expect(stats).toMatchObject({
      readyAgents: 1,
      slotsPerAgent: 4,
      succeeded: 4,
      failed: 0,
      windowSeconds: 300,
    });
    expect(stats.throughputPerMinute).toBeCloseTo(4 / 5);
    expect(stats.meanTaskSeconds).not.toBeNull();
    expect(stats.running + stats.queued).toBe(16);
    // Tasks that take (almost) no time: the target needs one slot besides the running ones.
    expect(stats.wantedSlots).toBe(stats.running + 1);
    expect(stats.wantedAgents).toBe(Math.ceil(stats.wantedSlots / 4));
  });
});

describe('deleting pipelines', () => {
  it('refuses while tasks are unfinished, then deletes the pipeline and its versions', async () => {
    const { tenant, app, submit } = await ocrApp();
    const submitted = await submit({ url: 'x' });
    const refused = await call<ErrorReply>(tenant, 'DELETE', `/${app}/pipelines/ocr`);
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toContain('has 1 unfinished tasks');
    expect(refused.body.error.details).toEqual({ jobs: [submitted.jobId] });

    await cleanUp();
    const deleted = await call<PipelineView>(tenant, 'DELETE', `/${app}/pipelines/ocr`);
    expect(deleted.status).toBe(200);
    expect(deleted.body.name).toBe('ocr');
    expect((await call(tenant, 'GET', `/${app}/pipelines/ocr`)).status).toBe(404);
    expect(
      (await call(tenant, 'GET', `/${app}/pipelines/ocr/tasks/${submitted.taskIds[0]}`)).status,
    ).toBe(404);
    expect((await getJob(submitted.jobId)).state).toBe('cancelled');
    const again = await call<PipelineView>(tenant, 'POST', `/${app}/pipelines`, OCR);
    expect(again.status).toBe(201);
    expect(again.body.version).toBe(1);
  });
});

describe('tenants', () => {
  it("answers 404 for another tenant's applications, pipelines and tasks, and keeps names apart", async () => {
    const a = await ocrApp();
    const submitted = await a.submit({ url: 'x' });
    const [id] = submitted.taskIds;
    const other = await newTenant();
    // The pipeline job is the tenant's own, through /v1 too.
    expect(
      (await api('GET', `/v1/jobs/${submitted.jobId}`, undefined, a.tenant.token)).status,
    ).toBe(200);
    expect((await api('GET', `/v1/jobs/${submitted.jobId}`, undefined, other.token)).status).toBe(
      404,
    );
    expect((await api('GET', `/v1/tasks/${id}`, undefined, other.token)).status).toBe(404);
    for (const path of [
      `/${a.app}`,
      `/${a.app}/pipelines`,
      `/${a.app}/pipelines/ocr`,
      `/${a.app}/pipelines/ocr/tasks/${id}`,
    ]) {
      const reply = await call<ErrorReply>(other, 'GET', path);
      expect(reply.status, path).toBe(404);
      expect(reply.body.error.code).toBe('not_found');
    }
    expect((await call(other, 'POST', `/${a.app}/pipelines/ocr`, { url: 'x' })).status).toBe(404);
    expect((await call(other, 'DELETE', `/${a.app}/pipelines/ocr`)).status).toBe(404);
    expect((await call<{ applications: unknown[] }>(other, 'GET', '')).body.applications).toEqual(
      [],
    );

    // The same names in the other tenant are its own pipeline.
    const mine = await call<PipelineView>(other, 'POST', `/${a.app}/pipelines`, {
      ...OCR,
      maxConcurrency: 7,
    });
    expect(mine.status).toBe(201);
    expect((await a.view()).definition.maxConcurrency).toBe(100);
    expect(
      (await call<PipelineView>(other, 'GET', `/${a.app}/pipelines/ocr`)).body.stats.queued,
    ).toBe(0);
    expect((await call(other, 'GET', `/${a.app}/pipelines/ocr/tasks/${id}`)).status).toBe(404);
  });

  it("lets the admin read a tenant's applications, pipelines and tasks with ?tenant=ID", async () => {
    const a = await ocrApp({ maxConcurrency: 3 });
    const { taskIds } = await a.submit({ url: 'x' });
    const q = `?tenant=${a.tenant.id}`;
    const base = '/api/applications';
    const asAdmin = <T>(path: string) => api<T>('GET', `${base}${path}`, undefined, ADMIN_TOKEN);

    const apps = await asAdmin<{ applications: ApplicationView[] }>(q);
    expect(apps.status).toBe(200);
    expect(apps.body.applications.map((app) => app.name)).toEqual([a.app]);
    const app = await asAdmin<ApplicationView>(`/${a.app}${q}`);
    expect(app.body.pipelines.map((p) => p.name)).toEqual(['ocr']);
    const list = await asAdmin<{ pipelines: PipelineView[] }>(`/${a.app}/pipelines${q}`);
    expect(list.body.pipelines).toEqual([await a.view()]);
    // The same figures the tenant reads: one task queued, the version it defined.
    const one = await asAdmin<PipelineView>(`/${a.app}/pipelines/ocr${q}&version=1`);
    expect(one.status).toBe(200);
    expect(one.body.stats.queued).toBe(1);
    expect(one.body.definition.maxConcurrency).toBe(3);
    const task = await asAdmin<PipelineTaskView>(`/${a.app}/pipelines/ocr/tasks/${taskIds[0]}${q}`);
    expect(task.status).toBe(200);
    expect(task.body).toEqual(await a.task(taskIds[0] ?? ''));
    // An id in capitals names the same tenant.
    expect((await asAdmin(`?tenant=${a.tenant.id.toUpperCase()}`)).status).toBe(200);
    conforms('GET', base, apps);
    conforms('GET', `${base}/{app}/pipelines/{pipeline}`, one);
  });

  it('tells the admin to pass ?tenant=ID, and refuses a malformed or unknown one', async () => {
    const a = await ocrApp();
    const base = '/api/applications';
    const paths = [
      ['', ''],
      [`/${a.app}`, '/{app}'],
      [`/${a.app}/pipelines`, '/{app}/pipelines'],
      [`/${a.app}/pipelines/ocr`, '/{app}/pipelines/{pipeline}'],
    ] as const;
    for (const [path, documented] of paths) {
      const none = await api<ErrorReply>('GET', `${base}${path}`, undefined, ADMIN_TOKEN);
      expect(none.status, path).toBe(400);
      expect(none.body.error.message).toMatch(/\?tenant=ID/);
      conforms('GET', `${base}${documented}`, none);
      const bad = await api<ErrorReply>(
        'GET',
        `${base}${path}?tenant=acme`,
        undefined,
        ADMIN_TOKEN,
      );
      expect(bad.status, path).toBe(400);
      expect(bad.body.error.message).toMatch(/query at tenant/);
      const unknown = await api<ErrorReply>(
        'GET',
        `${base}${path}?tenant=${crypto.randomUUID()}`,
        undefined,
        ADMIN_TOKEN,
      );
      expect(unknown.status, path).toBe(404);
      expect(unknown.body.error.message).toMatch(/tenant/);
    }
    // Writes stay the tenant's: ?tenant= does not let the admin define or delete a pipeline.
    const q = `?tenant=${a.tenant.id}`;
    const define = await api<ErrorReply>(
      'POST',
      `${base}/${a.app}/pipelines${q}`,
      OCR,
      ADMIN_TOKEN,
    );
    expect(define.status).toBe(403);
    expect(define.body.error.message).toMatch(/tenant token/);
    const remove = await api(
      'DELETE',
      `${base}/${a.app}/pipelines/ocr${q}`,
      undefined,
      ADMIN_TOKEN,
    );
    expect(remove.status).toBe(403);
    expect((await a.view()).version).toBe(1);
    expect((await api('GET', `${base}${q}`, undefined, null)).status).toBe(401);
  });

  it("refuses a tenant that names another tenant's id, and lets it name its own", async () => {
    const a = await ocrApp();
    const { taskIds } = await a.submit({ url: 'x' });
    const other = await newTenant();
    const paths = [
      '',
      `/${a.app}`,
      `/${a.app}/pipelines`,
      `/${a.app}/pipelines/ocr`,
      `/${a.app}/pipelines/ocr/tasks/${taskIds[0]}`,
    ];
    for (const path of paths) {
      const attack = await call<ErrorReply>(other, 'GET', `${path}?tenant=${a.tenant.id}`);
      expect(attack.status, path).toBe(403);
      expect(attack.body.error.message).toMatch(/its own tenant/);
      expect(JSON.stringify(attack.body)).not.toContain(a.app);
      const own = await call(a.tenant, 'GET', `${path}?tenant=${a.tenant.id}`);
      expect(own.status, path).toBe(200);
      expect(own.body).toEqual((await call(a.tenant, 'GET', path)).body);
    }
    // An unknown id is no one's own tenant either.
    expect((await call(other, 'GET', `?tenant=${crypto.randomUUID()}`)).status).toBe(403);
  });
});

describe('replies match the document', () => {
  it('for every application and pipeline route', async () => {
    const tenant = await newTenant();
    const base = '/api/applications';
    const created = await call(tenant, 'POST', '/docs/pipelines', OCR);
    conforms('POST', `${base}/{app}/pipelines`, created);
    conforms('POST', `${base}/{app}/pipelines`, await call(tenant, 'POST', '/docs/pipelines', OCR));
    conforms('POST', `${base}/{app}/pipelines`, await call(tenant, 'POST', '/docs/pipelines', {}));
    conforms('GET', base, await call(tenant, 'GET', ''));
    conforms('GET', `${base}/{app}`, await call(tenant, 'GET', '/docs'));
    conforms('GET', `${base}/{app}`, await call(tenant, 'GET', '/nope'));
    conforms('GET', `${base}/{app}/pipelines`, await call(tenant, 'GET', '/docs/pipelines'));
    conforms(
      'GET',
      `${base}/{app}/pipelines/{pipeline}`,
      await call(tenant, 'GET', '/docs/pipelines/ocr'),
    );
    const submitted = await call<PipelineSubmission>(tenant, 'POST', '/docs/pipelines/ocr', [
      { url: 'a' },
    ]);
    conforms('POST', `${base}/{app}/pipelines/{pipeline}`, submitted);
    conforms(
      'POST',
      `${base}/{app}/pipelines/{pipeline}`,
      await call(tenant, 'POST', '/docs/pipelines/ocr', {}),
    );
    const id = submitted.body.taskIds[0] ?? '';
    conforms(
      'GET',
      `${base}/{app}/pipelines/{pipeline}/tasks/{id}`,
      await call(tenant, 'GET', `/docs/pipelines/ocr/tasks/${id}`),
    );
    conforms(
      'DELETE',
      `${base}/{app}/pipelines/{pipeline}`,
      await call(tenant, 'DELETE', '/docs/pipelines/ocr'),
    );
  });
});
