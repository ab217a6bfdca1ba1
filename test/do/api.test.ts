/** The HTTP API through the real Worker and the real Scheduler Durable Object (SQLite storage). */
import { afterEach, describe, expect, it } from 'vitest';
import { SELF } from 'cloudflare:test';
import {
  PROTOCOL_VERSION,
  type JobView,
  type LogPage,
  type TaskView,
  type WorkerView,
} from '../../protocol/index.ts';
import {
  ADMIN,
  api,
  cleanUp,
  getJob,
  registerWorker,
  submitJob,
  uniqueAddress,
} from './helpers.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
type ErrorReply = { error: { code: string; message: string; details?: unknown } };

afterEach(cleanUp);

async function counts() {
  const workers = (await api<{ workers: WorkerView[] }>('GET', '/v1/workers')).body.workers.length;
  const jobs = (await api<{ jobs: JobView[] }>('GET', '/v1/jobs?limit=1000')).body.jobs.length;
  return { workers, jobs };
}

describe('workers', () => {
  it('registers an address once: 201 with a join token, then 200 without one', async () => {
    const address = uniqueAddress();
    const first = await api<{ worker: WorkerView; created: boolean; joinToken?: string }>(
      'POST',
      '/v1/workers',
      { address },
    );
    expect(first.status).toBe(201);
    expect(first.body.created).toBe(true);
    expect(first.body.worker.id).toMatch(UUID);
    expect(first.body.joinToken).toMatch(/^tmj_[A-Za-z0-9_-]{43}$/);
    expect(first.body.worker).toMatchObject({
      address,
      state: 'pending',
      connected: false,
      lastHeartbeatAgeMs: null,
      runningTasks: 0,
    });

    const again = await api<{ worker: WorkerView; created: boolean; joinToken?: string }>(
      'POST',
      '/v1/workers',
      {
        address,
        labels: { zone: 'a' },
        slots: 3,
      },
    );
    expect(again.status).toBe(200);
    expect(again.body.created).toBe(false);
    expect(again.body).not.toHaveProperty('joinToken');
    expect(again.body.worker).toMatchObject({
      id: first.body.worker.id,
      labels: { zone: 'a' },
      slots: 3,
    });
  });

  it('lists and reads workers', async () => {
    const { worker } = await registerWorker();
    const list = await api<{ workers: WorkerView[] }>('GET', '/v1/workers');
    expect(list.status).toBe(200);
    expect(list.body.workers.map((w) => w.id)).toContain(worker.id);
    const pending = await api<{ workers: WorkerView[] }>('GET', '/v1/workers?state=pending');
    expect(pending.body.workers.every((w) => w.state === 'pending')).toBe(true);
    expect(pending.body.workers.map((w) => w.id)).toContain(worker.id);
    const one = await api<WorkerView>('GET', `/v1/workers/${worker.id}`);
    expect(one.status).toBe(200);
    expect(one.body).toEqual(worker);
    const upper = await api<WorkerView>('GET', `/v1/workers/${worker.id.toUpperCase()}`);
    expect(upper.body.id).toBe(worker.id);
  });

  it('answers 404 with the error shape for unknown and non-UUID ids', async () => {
    const unknown = await api<ErrorReply>('GET', `/v1/workers/${crypto.randomUUID()}`);
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('not_found');
    expect(unknown.body.error.message).toMatch(/^worker .* not found$/);
    const notUuid = await api<ErrorReply>('GET', '/v1/workers/not-a-uuid');
    expect(notUuid.status).toBe(404);
    expect(notUuid.body.error.code).toBe('not_found');
  });

  it('rejects bad registrations with 400 and stores nothing', async () => {
    const before = await counts();
    const cases: [unknown, RegExp][] = [
      [{ address: 123 }, /at address/],
      [{ address: 'no-port' }, /expected host:port/],
      [{ address: 'localhost:70000' }, /port must be 1\.\.65535/],
      [{ address: uniqueAddress(), color: 'red' }, /unknown field in request body: color/],
      [{ address: uniqueAddress(), slots: 0 }, /at slots/],
    ];
    for (const [body, message] of cases) {
      const reply = await api<ErrorReply>('POST', '/v1/workers', body);
      expect(reply.status, JSON.stringify(body)).toBe(400);
      expect(reply.body.error.code).toBe('bad_request');
      expect(reply.body.error.message).toMatch(message);
    }
    const malformed = await api<ErrorReply>('POST', '/v1/workers', '{"address": ');
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.code).toBe('invalid_json');
    expect(await counts()).toEqual(before);
  });

  it('deregisters an unconnected worker at once and frees its address', async () => {
    const { worker, address } = await registerWorker();
    const gone = await api<WorkerView>('DELETE', `/v1/workers/${worker.id}`);
    expect(gone.status).toBe(200);
    expect(gone.body.state).toBe('gone');
    expect(
      (await api<{ workers: WorkerView[] }>('GET', '/v1/workers')).body.workers.map((w) => w.id),
    ).not.toContain(worker.id);
    expect(
      (await api<{ workers: WorkerView[] }>('GET', '/v1/workers?state=gone')).body.workers.map(
        (w) => w.id,
      ),
    ).toContain(worker.id);
    expect((await api<ErrorReply>('DELETE', `/v1/workers/${worker.id}`)).status).toBe(404);
    const again = await api<{ worker: WorkerView; created: boolean }>('POST', '/v1/workers', {
      address,
    });
    expect(again.status).toBe(201);
    expect(again.body.worker.id).not.toBe(worker.id);
  });

  it('fails queued tasks pinned to a worker when it is deregistered', async () => {
    const { worker } = await registerWorker();
    const job = await submitJob({ kind: 'echo', workers: [worker.id] });
    expect(job.tasks?.[0]).toMatchObject({ state: 'queued', pinnedWorkerId: worker.id });
    await api('DELETE', `/v1/workers/${worker.id}`);
    const after = await getJob(job.id);
    expect(after.state).toBe('failed');
    expect(after.tasks?.[0]?.state).toBe('failed');
    expect(after.error).toMatch(/deregistered/);
  });
});

describe('request validation', () => {
  const jobCases: [string, unknown, RegExp][] = [
    ['wrong type', { kind: 'echo', count: 'three' }, /at count: .*expected number/],
    [
      'unknown field',
      { kind: 'command', command: 'ls', cwd: '/tmp' },
      /unknown field in request body: cwd/,
    ],
    ['empty command', { kind: 'command', command: '' }, /command must not be empty/],
    ['empty argv', { kind: 'command', command: [] }, /command must not be empty/],
    ['blank program', { kind: 'command', command: [''] }, /argv\[0\]/],
    [
      'escaping path',
      { kind: 'command', command: 'ls', path: '../x' },
      /at path: path must be relative/,
    ],
    [
      'unknown kind',
      { kind: 'mapreduce' },
      /unknown job kind "mapreduce"; expected one of command, echo, aggregate/,
    ],
    ['missing kind', { command: 'ls' }, /a job needs a "kind"/],
    ['not an object', [1, 2], /a job needs a "kind"/],
    ['bad selector', { kind: 'echo', workers: 'some' }, /at workers/],
  ];

  it.each(jobCases)(
    'rejects a job with %s: 400, clear message, nothing stored',
    async (_, body, message) => {
      const before = await counts();
      const reply = await api<ErrorReply>('POST', '/v1/jobs', body);
      expect(reply.status).toBe(400);
      expect(reply.body.error.code).toBe('bad_request');
      expect(reply.body.error.message).toMatch(message);
      expect(await counts()).toEqual(before);
    },
  );

  it('rejects malformed JSON with invalid_json', async () => {
    const before = await counts();
    for (const body of ['{kind: echo}', '', '{"kind":"echo"']) {
      const reply = await api<ErrorReply>('POST', '/v1/jobs', body);
      expect(reply.status).toBe(400);
      expect(reply.body.error.code).toBe('invalid_json');
      expect(reply.body.error.message).toMatch(/not valid JSON/);
    }
    expect(await counts()).toEqual(before);
  });

  it('rejects bad query strings', async () => {
    expect((await api<ErrorReply>('GET', '/v1/jobs?state=done')).status).toBe(400);
    expect((await api<ErrorReply>('GET', '/v1/jobs?limit=0')).status).toBe(400);
    const unknownParam = await api<ErrorReply>('GET', '/v1/jobs?colour=red');
    expect(unknownParam.status).toBe(400);
    expect(unknownParam.body.error.message).toMatch(/unknown field in query: colour/);
    expect((await api<ErrorReply>('POST', '/v1/jobs?wait=forever', { kind: 'echo' })).status).toBe(
      400,
    );
  });

  it('rejects bodies over 1 MiB with 413', async () => {
    const before = await counts();
    const body = JSON.stringify({ kind: 'echo', payload: 'x'.repeat(1024 * 1024) });
    const reply = await api<ErrorReply>('POST', '/v1/jobs', body);
    expect(reply.status).toBe(413);
    expect(reply.body.error.code).toBe('payload_too_large');
    expect(await counts()).toEqual(before);
  });

  it('answers unknown routes with a JSON 404', async () => {
    for (const [method, path] of [
      ['GET', '/v1/nope'],
      ['GET', '/'],
      ['PUT', '/v1/jobs'],
    ] as const) {
      const reply = await api<ErrorReply>(method, path);
      expect(reply.status).toBe(404);
      expect(reply.headers.get('content-type')).toMatch(/application\/json/);
      expect(reply.body.error).toMatchObject({
        code: 'not_found',
        message: `no route for ${method} ${path}`,
      });
    }
  });

  it('refuses a plain GET on the agent endpoint', async () => {
    const reply = await api<ErrorReply>('GET', '/v1/agent/connect');
    expect(reply.status).toBe(400);
    expect(reply.body.error.message).toMatch(/WebSocket upgrade/);
  });
});

describe('jobs and tasks', () => {
  it('queues a submitted job when no worker is connected', async () => {
    const reply = await api<JobView>('POST', '/v1/jobs', {
      kind: 'echo',
      payload: { n: 1 },
      count: 3,
      name: 'probe',
    });
    expect(reply.status).toBe(202);
    const job = reply.body;
    expect(job.id).toMatch(UUID);
    expect(job).toMatchObject({
      name: 'probe',
      kind: 'echo',
      state: 'queued',
      spec: { payload: { n: 1 }, count: 3 },
    });
    expect(job.counts).toEqual({ queued: 3, running: 0, succeeded: 0, failed: 0, cancelled: 0 });
    expect(job.tasks?.map((t) => [t.index, t.state, t.attempt, t.workerId])).toEqual([
      [0, 'queued', 0, null],
      [1, 'queued', 0, null],
      [2, 'queued', 0, null],
    ]);

    const queued = await api<{ jobs: JobView[] }>('GET', '/v1/jobs?state=queued');
    expect(queued.body.jobs.map((j) => j.id)).toContain(job.id);
    expect(queued.body.jobs.every((j) => j.state === 'queued' && j.tasks === undefined)).toBe(true);
    const running = await api<{ jobs: JobView[] }>('GET', '/v1/jobs?state=running');
    expect(running.body.jobs.map((j) => j.id)).not.toContain(job.id);

    const limited = await api<JobView>('GET', `/v1/jobs/${job.id}?tasks=1`);
    expect(limited.body.tasks).toHaveLength(1);
  });

  it('reads a task by id, and 404s unknown tasks and jobs', async () => {
    const job = await submitJob({ kind: 'command', command: ['echo', 'hi'] });
    const taskId = job.tasks?.[0]?.id ?? '';
    const task = await api<TaskView>('GET', `/v1/tasks/${taskId}`);
    expect(task.status).toBe(200);
    expect(task.body).toMatchObject({
      id: taskId,
      jobId: job.id,
      kind: 'command',
      state: 'queued',
      logTruncated: false,
      result: null,
    });
    const tasks = await api<{ tasks: TaskView[] }>('GET', '/v1/tasks?state=queued');
    expect(tasks.body.tasks.map((t) => t.id)).toContain(taskId);
    for (const path of [
      `/v1/tasks/${crypto.randomUUID()}`,
      `/v1/jobs/${crypto.randomUUID()}`,
      '/v1/jobs/123',
      `/v1/jobs/${crypto.randomUUID()}/logs`,
    ]) {
      const reply = await api<ErrorReply>('GET', path);
      expect(reply.status, path).toBe(404);
      expect(reply.body.error.code).toBe('not_found');
    }
  });

  it('refuses "workers": "all" without ready workers (409) and unknown worker ids (400)', async () => {
    const before = await counts();
    const all = await api<ErrorReply>('POST', '/v1/jobs', { kind: 'echo', workers: 'all' });
    expect(all.status).toBe(409);
    expect(all.body.error.code).toBe('conflict');
    const id = crypto.randomUUID();
    const unknown = await api<ErrorReply>('POST', '/v1/jobs', { kind: 'echo', workers: [id] });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.message).toContain(id);
    expect(unknown.body.error.details).toEqual({ unknownWorkers: [id] });
    expect(await counts()).toEqual(before);
  });

  it('cancels a queued job once; a second cancel is a conflict', async () => {
    const job = await submitJob({ kind: 'echo', count: 2 });
    const cancel = await api<JobView>('POST', `/v1/jobs/${job.id}/cancel`);
    expect(cancel.status).toBe(200);
    expect(cancel.body.state).toBe('cancelled');
    expect(cancel.body.finishedAt).not.toBeNull();
    expect(cancel.body.counts).toMatchObject({ queued: 0, cancelled: 2 });
    expect(cancel.body.tasks?.map((t) => t.state)).toEqual(['cancelled', 'cancelled']);
    expect((await getJob(job.id)).state).toBe('cancelled');

    const again = await api<ErrorReply>('POST', `/v1/jobs/${job.id}/cancel`);
    expect(again.status).toBe(409);
    expect(again.body.error).toMatchObject({ code: 'conflict', details: { state: 'cancelled' } });
    expect((await api<ErrorReply>('POST', `/v1/jobs/${crypto.randomUUID()}/cancel`)).status).toBe(
      404,
    );
  });

  it('serves empty logs for a job and a task without output', async () => {
    const job = await submitJob({ kind: 'echo' });
    const taskId = job.tasks?.[0]?.id ?? '';
    const jobLogs = await api<LogPage>('GET', `/v1/jobs/${job.id}/logs`);
    expect(jobLogs.status).toBe(200);
    expect(jobLogs.body).toEqual({ entries: [], next: null, done: false });
    expect((await api<LogPage>('GET', `/v1/tasks/${taskId}/logs`)).body).toEqual({
      entries: [],
      next: null,
      done: false,
    });
    await api('POST', `/v1/jobs/${job.id}/cancel`);
    expect((await api<LogPage>('GET', `/v1/tasks/${taskId}/logs?after=5&limit=10`)).body).toEqual({
      entries: [],
      next: null,
      done: true,
    });
  });

  it('ends a followed log stream of a finished task at once', async () => {
    const job = await submitJob({ kind: 'echo' });
    await api('POST', `/v1/jobs/${job.id}/cancel`);
    const response = await SELF.fetch(
      `http://scheduler.test/v1/tasks/${job.tasks?.[0]?.id}/logs?follow=true`,
      { headers: ADMIN },
    );
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/x-ndjson');
    expect(new TextDecoder().decode(await response.arrayBuffer())).toBe(
      '{"end":true,"state":"cancelled"}\n',
    );
    const missing = await SELF.fetch(
      `http://scheduler.test/v1/tasks/${crypto.randomUUID()}/logs?follow=true`,
      { headers: ADMIN },
    );
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as ErrorReply).error.code).toBe('not_found');
  });

  it('reports health', async () => {
    const reply = await api('GET', '/v1/health');
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({
      ok: true,
      protocolVersion: PROTOCOL_VERSION,
      connectedWorkers: 0,
    });
  });
});
