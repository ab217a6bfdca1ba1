/**
 * End to end: the CLI's views of a busy cluster, against a real stack: `tm status` (workers, the
 * queue by tenant, running jobs; a tenant sees only its own), `tm tasks --worker`, and `tm task`
 * with its attempts' history.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobView, QueueReport, TaskPage } from '../../protocol/index.ts';
import { startTestStack, type TestStack } from '../support/stack.ts';
import { runTmProcess } from '../support/tm-process.ts';
import { callApi } from '../support/http.ts';
import { eventually } from '../support/wait.ts';
import { grantTenant } from '../support/tenants.ts';

let stack: TestStack;
let home: string;

beforeAll(async () => {
  stack = await startTestStack({ agents: 2, slots: 1 });
  home = mkdtempSync(join(tmpdir(), 'tm-cli-status-'));
}, 120_000);
afterAll(async () => {
  await stack?.stop();
  if (home) rmSync(home, { recursive: true, force: true });
});

const tm = (token: string, args: string[]) =>
  runTmProcess({ url: stack.url, token, configHome: home }, args);

describe('tm status, tm tasks --worker, tm task', () => {
  it('shows workers, the queue by tenant and running jobs; a tenant sees only its own', async () => {
    const tenant = await stack.client.createTenant({ name: 'busy' });
    await grantTenant(stack.client, tenant.tenant.id);
    // Both slots run the admin's job; the tenant's three tasks wait behind it.
    const running = await stack.client.submitJob({
      kind: 'command',
      command: 'sleep 30',
      workers: 2,
    });
    await eventually(
      async () => ((await stack.client.getJob(running.id)).counts.running === 2 ? true : undefined),
      'both slots to be taken',
    );
    const waiting = await callApi<JobView>(stack.url, tenant.token, 'POST', '/v1/jobs', {
      kind: 'command',
      command: 'true',
      workers: 3,
    });
    expect(waiting.status).toBe(202);

    const admin = await tm(stack.adminToken, ['status']);
    expect(admin.code, admin.stderr).toBe(0);
    expect(admin.stdout).toContain('workers: 2 ready of 2, 2/2 slots in use');
    expect(admin.stdout).toContain('queue: 3 queued, 2 running');
    expect(admin.stdout).toMatch(/^\(admin\) +- +0 +2$/m);
    expect(admin.stdout).toMatch(/^busy +- +3 +0$/m);
    expect(admin.stdout).toContain('running jobs: 1');
    expect(admin.stdout).toContain(running.id);
    expect(admin.stdout).toMatch(/^storage$/m);
    const json = JSON.parse((await tm(stack.adminToken, ['status', '--json'])).stdout) as {
      queue: QueueReport;
      runningJobs: JobView[];
    };
    expect(json.queue.entries).toContainEqual({
      tenant: 'busy',
      pipeline: null,
      queued: 3,
      running: 0,
    });
    expect(json.runningJobs.map((job) => job.id)).toEqual([running.id]);

    const theirs = await tm(tenant.token, ['status']);
    expect(theirs.code, theirs.stderr).toBe(0);
    expect(theirs.stdout).toContain('running jobs: 0');
    expect(theirs.stdout).not.toContain(running.id);
    expect(theirs.stdout).toContain("(workers, queue and storage need the admin's token)");
    // The queue report itself is the admin's.
    const refused = await callApi(stack.url, tenant.token, 'GET', '/v1/admin/queue');
    expect(refused.status).toBe(403);

    await stack.client.cancelJob(running.id);
    await stack.client.waitJob(waiting.body.id, 30_000);
  });

  it("lists one worker's tasks, and shows a task with each attempt's worker and outcome", async () => {
    const job = await stack.client.submitJob({
      kind: 'command',
      command: 'echo "try $TM_ATTEMPT"; exit 3',
      workers: 1,
      retries: 1,
      retryBackoff: { initialSeconds: 0.1 },
    });
    const done = await stack.client.waitJob(job.id, 30_000);
    expect(done.state).toBe('failed');
    const task = done.tasks![0]!;
    const shown = await tm(stack.adminToken, ['task', task.id]);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toMatch(/^attempts:$/m);
    const attempts = shown.stdout.split('\n').filter((line) => /^ *[12] +\S+ +failed +3 /.test(line));
    expect(attempts).toHaveLength(2);

    const worker = task.workerId!;
    const mine = await tm(stack.adminToken, ['tasks', '--worker', worker, '--json']);
    expect(mine.code, mine.stderr).toBe(0);
    const page = JSON.parse(mine.stdout) as TaskPage;
    expect(page.tasks.map((t) => t.id)).toContain(task.id);
    expect(page.tasks.every((t) => t.workerId === worker)).toBe(true);
    const other = (await stack.client.listWorkers()).find((w) => w.id !== worker)!;
    const theirs = await stack.client.tasksPage({ worker: other.id });
    expect(theirs.tasks.map((t) => t.id)).not.toContain(task.id);

    expect((await tm(stack.adminToken, ['tasks', '--job', job.id, '--worker', worker])).code).toBe(
      2,
    );
    const bad = await callApi<{ error: { message: string } }>(
      stack.url,
      stack.adminToken,
      'GET',
      '/v1/tasks?worker=nope',
    );
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/worker/);
  });
});
