/**
 * Views within a byte budget and results within a job's budget, through the real Worker and
 * Scheduler: a 1,000-task echo job of 100 KB (which stored 97 MiB and made its job and task views
 * answer 500, over the 32 MiB of a Worker → Durable Object call), paging, cursors, and tenants.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { runInDurableObject } from 'cloudflare:test';
import {
  MAX_JOB_RESULT_BYTES,
  RESULT_PREVIEW_BYTES,
  VIEW_BUDGET_BYTES,
  encodeCursor,
  type CreatedTenantToken,
  type ErrorBody,
  type JobPage,
  type JobView,
  type TaskPage,
  type TaskResult,
  type TaskView,
} from '../../protocol/index.ts';
import {
  api,
  cleanUp,
  conforms,
  joinAgent,
  query,
  stub,
  submitJob,
  waitFor,
  type TestAgent,
} from './helpers.ts';

afterEach(cleanUp);

const databaseSize = () => runInDurableObject(stub(), (_, state) => state.storage.sql.databaseSize);

/** Bytes of a reply's JSON body. */
const replyBytes = (body: unknown) => new TextEncoder().encode(JSON.stringify(body)).length;

/**
 * Plays an agent for `count` tasks of `jobId`: answers each assignment with `result(payload)`,
 * in `complete` frames of `perFrame` results (under a frame's 1 MiB).
 */
async function answerAll(
  agent: TestAgent,
  jobId: string,
  count: number,
  perFrame: number,
  result: (payload: unknown) => unknown = (payload) => payload,
) {
  for (let answered = 0; answered < count;) {
    const frame = await agent.nextFrame(
      (f) => f.type === 'assign' && f.tasks.some((t) => t.jobId === jobId),
      10_000,
    );
    if (frame.type !== 'assign') continue;
    const items = frame.tasks.map((t) => ({
      taskId: t.taskId,
      attempt: t.attempt,
      result: result(t.spec.kind === 'echo' ? t.spec.payload : null),
    }));
    for (let i = 0; i < items.length; i += perFrame)
      agent.send({ type: 'complete', tasks: items.slice(i, i + perFrame) });
    answered += items.length;
  }
}

async function ended(jobId: string): Promise<JobView> {
  return waitFor(
    async () => {
      const { body } = await api<JobView>('GET', `/v1/jobs/${jobId}?tasks=0`);
      return body.finishedAt ? body : undefined;
    },
    `job ${jobId} to end`,
    30_000,
  );
}

/** Every page of a paged view from `path`, following `next`. */
async function allPages<T>(path: string, rows: (page: T) => unknown[], token?: string) {
  const pages: T[] = [];
  for (let cursor: string | null = null; ;) {
    const joiner = path.includes('?') ? '&' : '?';
    const url: string = cursor ? `${path}${joiner}cursor=${encodeURIComponent(cursor)}` : path;
    const reply = await api<T>('GET', url, undefined, token);
    expect(reply.status, url).toBe(200);
    expect(replyBytes(reply.body)).toBeLessThanOrEqual(VIEW_BUDGET_BYTES + RESULT_PREVIEW_BYTES);
    pages.push(reply.body);
    cursor = (reply.body as { next: string | null }).next;
    if (cursor === null) return { pages, rows: pages.flatMap(rows) };
  }
}

describe('a 1,000-task echo job of 100 KB', () => {
  it('stores its payload once, and its job and task views stay small and page every task once', async () => {
    const { agent } = await joinAgent();
    const payload = 'x'.repeat(100_000);
    const before = await databaseSize();
    const job = await submitJob({ kind: 'echo', payload, count: 1000 });
    await answerAll(agent, job.id, 1000, 8);
    expect((await ended(job.id)).state).toBe('succeeded');
    // The payload is stored with the job; each task refers to it (it stored 97 MiB of copies).
    const grown = (await databaseSize()) - before;
    console.log(`database grew ${grown} bytes for the 1,000 x 100 KB echo job`);
    expect(grown).toBeLessThan(4 * 1024 * 1024);
    expect(
      await query(
        `SELECT count(*) AS n FROM tasks WHERE job_id = ? AND result IS NULL
        AND result_is_payload = 1`,
        job.id,
      ),
    ).toEqual([{ n: 1000 }]);

    const view = await api<JobView>('GET', `/v1/jobs/${job.id}`);
    expect(view.status).toBe(200);
    conforms('GET', '/v1/jobs/{id}', view);
    expect(replyBytes(view.body)).toBeLessThan(VIEW_BUDGET_BYTES + 2 * payload.length);
    const first = view.body.tasks ?? [];
    expect(first.length).toBeGreaterThan(0);
    expect(first[0]).toMatchObject({
      index: 0,
      result: null,
      resultBytes: payload.length + 2,
      resultOmitted: true,
    });
    // Its 1,000 small views fit one page; a smaller first page says where the rest are.
    expect(first).toHaveLength(1000);
    expect(view.body.tasksNext).toBeNull();
    const short = await api<JobView>('GET', `/v1/jobs/${job.id}?tasks=100`);
    expect(short.body.tasks).toHaveLength(100);
    expect(short.body.tasksNext).toEqual(expect.any(String));

    // Paging the job's tasks from its first page on visits each task once, in index order.
    const paged = await allPages<TaskPage>(
      `/v1/jobs/${job.id}/tasks?limit=300`,
      (page) => page.tasks,
    );
    const indexes = (paged.rows as TaskView[]).map((task) => task.index);
    expect(indexes).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(new Set((paged.rows as TaskView[]).map((task) => task.id)).size).toBe(1000);
    conforms('GET', '/v1/jobs/{id}/tasks', { status: 200, body: paged.pages[0] });
    const following = await api<TaskPage>(
      'GET',
      `/v1/jobs/${job.id}/tasks?cursor=${short.body.tasksNext ?? ''}`,
    );
    expect(following.body.tasks[0]?.index).toBe(100);

    // Across jobs, too: every task of the job on exactly one page.
    const listed = await api<TaskPage>('GET', '/v1/tasks');
    expect(listed.status).toBe(200);
    conforms('GET', '/v1/tasks', listed);
    const across = await allPages<TaskPage>('/v1/tasks?state=succeeded', (page) => page.tasks);
    const ours = (across.rows as TaskView[]).filter((task) => task.jobId === job.id);
    expect(ours).toHaveLength(1000);
    expect(new Set(ours.map((task) => task.id)).size).toBe(1000);

    // The whole result is one call away.
    const whole = await api<TaskResult>('GET', `/v1/tasks/${first[0]?.id}/result`);
    expect(whole.status).toBe(200);
    conforms('GET', '/v1/tasks/{id}/result', whole);
    expect(whole.body).toEqual({
      id: first[0]?.id,
      result: payload,
      resultBytes: payload.length + 2,
    });
  }, 120_000);
});

describe('the view budget', () => {
  it('cuts a page of large results short of its limit, and pages on from there', async () => {
    const { agent } = await joinAgent();
    const shown = 'z'.repeat(60_000);
    const job = await submitJob({ kind: 'echo', payload: 'p', count: 80 });
    await answerAll(agent, job.id, 80, 8, () => shown);
    await ended(job.id);
    const view = await api<JobView>('GET', `/v1/jobs/${job.id}`);
    const first = view.body.tasks ?? [];
    // 80 views of ~60 KB are more than VIEW_BUDGET_BYTES: the page stops before it.
    expect(first.length).toBeLessThan(80);
    expect(first.length).toBeGreaterThan(VIEW_BUDGET_BYTES / 64_000);
    expect(first.every((task) => task.result === shown && !task.resultOmitted)).toBe(true);
    expect(replyBytes(view.body)).toBeLessThanOrEqual(VIEW_BUDGET_BYTES + RESULT_PREVIEW_BYTES);
    const rest = await allPages<TaskPage>(
      `/v1/jobs/${job.id}/tasks?cursor=${view.body.tasksNext ?? ''}`,
      (page) => page.tasks,
    );
    const indexes = [...first, ...(rest.rows as TaskView[])].map((task) => task.index);
    expect(indexes).toEqual(Array.from({ length: 80 }, (_, i) => i));
  }, 60_000);
});

describe('results within a job budget', () => {
  it('shows a small result inline, and fails a result past the job budget without retrying it', async () => {
    const { agent } = await joinAgent();
    // Results that are not the payload (as a pipeline's are) count: ~1 MB each, the most a frame carries.
    const big = 'y'.repeat(1_000_000);
    const count = Math.ceil(MAX_JOB_RESULT_BYTES / big.length) + 2;
    const job = await submitJob({ kind: 'echo', payload: 'small', count, retries: 3 });
    await answerAll(agent, job.id, count, 1, () => big);
    const done = await ended(job.id);
    expect(done.state).toBe('failed');
    expect(done.error).toMatch(/^result_too_large: the result is 1000002 bytes of JSON/);
    expect(done.error).toContain(String(MAX_JOB_RESULT_BYTES));
    const stored = Math.floor(MAX_JOB_RESULT_BYTES / (big.length + 2));
    expect(done.counts).toMatchObject({ succeeded: stored, failed: count - stored });
    // Not retried: the same work would make the same result.
    expect(done.attempts).toMatchObject({ failed: count - stored });
    const [row] = await query<{ result_bytes: number }>(
      'SELECT result_bytes FROM jobs WHERE id = ?',
      job.id,
    );
    expect(row?.result_bytes).toBe(stored * (big.length + 2));

    const small = await submitJob({ kind: 'echo', payload: 'p' });
    await answerAll(agent, small.id, 1, 1, () => ({ echoed: 'other' }));
    const view = await ended(small.id).then(() => api<JobView>('GET', `/v1/jobs/${small.id}`));
    expect(view.body.tasks?.[0]).toMatchObject({
      result: { echoed: 'other' },
      resultBytes: 18,
      resultOmitted: false,
    });
  }, 120_000);
});

describe('paging', () => {
  it('pages jobs newest first, each once, within the budget', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await submitJob({ kind: 'echo', name: `page-${i}` })).id);
    const paged = await allPages<JobPage>('/v1/jobs?limit=2', (page) => page.jobs);
    conforms('GET', '/v1/jobs', { status: 200, body: paged.pages[0] });
    const seen = (paged.rows as JobView[]).map((job) => job.id);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.filter((id) => ids.includes(id))).toEqual([...ids].reverse());
    expect(paged.pages[0]?.jobs).toHaveLength(2);
  });

  it('refuses a bad cursor or limit with 400', async () => {
    const job = await submitJob({ kind: 'echo' });
    const jobsCursor = encodeCursor('jobs', [Date.now(), job.id]);
    for (const path of [
      '/v1/jobs?cursor=not-a-cursor',
      `/v1/tasks?cursor=${jobsCursor}`,
      `/v1/jobs/${job.id}/tasks?cursor=${encodeCursor('tasks', [5])}`,
      `/v1/jobs/${job.id}/tasks?cursor=${encodeCursor('job-tasks', [0]).slice(0, -2)}`,
      `/v1/jobs/${job.id}/tasks?limit=0`,
      `/v1/jobs/${job.id}/tasks?limit=1001`,
      `/v1/jobs/${job.id}/tasks?state=done`,
      '/v1/tasks?limit=10000',
      `/v1/jobs/${job.id}?tasks=5000`,
    ]) {
      const reply = await api<ErrorBody>('GET', path);
      expect(reply.status, path).toBe(400);
      expect(reply.body.error.code, path).toBe('bad_request');
    }
    const bad = await api<ErrorBody>('GET', '/v1/jobs?cursor=not-a-cursor');
    expect(bad.body.error.message).toMatch(/cursor is not one this list gave/);
  });

  it("never shows a tenant another tenant's tasks, pages or results", async () => {
    const tenant = async () => {
      const name = `v-${crypto.randomUUID().slice(0, 8)}`;
      return (await api<CreatedTenantToken>('POST', '/v1/tenants', { name })).body.token;
    };
    const [a, b] = [await tenant(), await tenant()];
    const { agent } = await joinAgent();
    const submitted = await api<JobView>('POST', '/v1/jobs', { kind: 'echo', payload: 'a' }, a);
    const jobA = submitted.body;
    await answerAll(agent, jobA.id, 1, 1);
    await ended(jobA.id);
    const taskA = jobA.tasks?.[0]?.id ?? '';
    expect((await api('GET', `/v1/jobs/${jobA.id}/tasks`, undefined, b)).status).toBe(404);
    expect((await api('GET', `/v1/tasks/${taskA}/result`, undefined, b)).status).toBe(404);
    const theirs = await allPages<TaskPage>('/v1/tasks?limit=50', (page) => page.tasks, b);
    expect(theirs.rows).toEqual([]);
    const jobs = await allPages<JobPage>('/v1/jobs', (page) => page.jobs, b);
    expect(jobs.rows).toEqual([]);
    // Its owner sees it, and the admin too.
    const own = await api<TaskPage>('GET', `/v1/jobs/${jobA.id}/tasks`, undefined, a);
    expect(own.body.tasks.map((task) => task.id)).toEqual([taskA]);
    expect(
      (await api<TaskResult>('GET', `/v1/tasks/${taskA}/result`, undefined, a)).body.result,
    ).toBe('a');
    const mine = await allPages<TaskPage>('/v1/tasks', (page) => page.tasks, a);
    expect((mine.rows as TaskView[]).map((task) => task.id)).toEqual([taskA]);
  });
});
