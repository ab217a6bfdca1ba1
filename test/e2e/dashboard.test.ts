/**
 * End to end in a real browser: the dashboard served by `wrangler dev` at /, driven in headless
 * Chromium against the real stack (3 agents, a loopback S3). Logs in, sees the workers, follows a
 * job's output live, cancels from the page, reads an aggregation's result (and its CSV) equal to
 * the API's, keeps a tenant to its own jobs, and shows a wrong token's error. Screenshots of each
 * run go to .tmp/screenshots/.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { tableFromIPC } from 'apache-arrow';
import type {
  CreatedTenantToken,
  JobView,
  PipelineView,
  ResultPage,
  TenantView,
  TaskView,
  Throughput,
} from '../../protocol/index.ts';
import { startTestStack, type TestStack } from '../support/stack.ts';
import { callApi } from '../support/http.ts';
import { eventually } from '../support/wait.ts';
import { GRANT_ALL } from '../support/tenants.ts';
import { launchBrowser, screenshot } from '../support/browser.ts';
import { createObjectStore } from '../../worker-agent/storage/object-store.ts';
import { salesTable, toParquet } from '../../cli/local/sample-data.ts';

/** How long a page may take to show what a test waits for. */
const SHOWN_MS = 30_000;

let stack: TestStack;
let browser: Browser;
let admin: Page;
const contexts: BrowserContext[] = [];
/** Every URL the admin's page asked for: the token must be in none. */
const requested: string[] = [];
/** Errors the admin's page logged (a script or style its Content-Security-Policy refused, say). */
const consoleErrors: string[] = [];

const api = <T>(method: string, path: string, body?: unknown, token = stack.adminToken) =>
  callApi<T>(stack.url, token, method, path, body);

async function submit(body: unknown, token = stack.adminToken, wait = 0): Promise<JobView> {
  const reply = await api<JobView>('POST', `/v1/jobs${wait ? `?wait=${wait}` : ''}`, body, token);
  expect(reply.status, JSON.stringify(reply.body)).toBe(202);
  return reply.body;
}

async function newTenant(name: string): Promise<CreatedTenantToken> {
  const reply = await api<CreatedTenantToken>('POST', '/v1/tenants', { name });
  expect(reply.status).toBe(201);
  return reply.body;
}

/** A fresh tab (its own sessionStorage) logged in with `token`. */
async function loggedIn(token: string): Promise<Page> {
  const context = await browser.newContext({ acceptDownloads: true });
  contexts.push(context);
  const page = await context.newPage();
  await page.goto(stack.url);
  await page.fill('#token', token);
  await page.click('button[type=submit]');
  await page
    .locator('#who')
    .filter({ hasText: /admin|tenant/ })
    .waitFor({ timeout: SHOWN_MS });
  return page;
}

const goto = (page: Page, route: string) =>
  page.evaluate(`location.hash = ${JSON.stringify(route)}`);

beforeAll(async () => {
  // The browser first: without Chromium the file fails at once, before any stack is started.
  browser = await launchBrowser();
  stack = await startTestStack({ agents: 3, s3: true, agentArgs: ['--isolation', 'none'] });
  const store = createObjectStore(stack.s3!.access);
  await store.put('dash/sales.parquet', toParquet(salesTable(7, 5_000)));
  store.close();
  admin = await loggedIn(stack.adminToken);
  admin.on('request', (request) => requested.push(request.url()));
  admin.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text());
  });
}, 180_000);

afterAll(async () => {
  for (const context of contexts) await context.close();
  await browser?.close();
  await stack?.stop();
});

describe('the dashboard', () => {
  it('shows a clear error for a wrong token, and no dashboard', async () => {
    const context = await browser.newContext();
    contexts.push(context);
    const page = await context.newPage();
    await page.goto(stack.url);
    await page.fill('#token', 'not-a-token');
    await page.click('button[type=submit]');
    const error = page.locator('#login-error');
    await error.waitFor({ timeout: SHOWN_MS });
    expect(await error.textContent()).toMatch(/refused \(401 Unauthorized\)/);
    expect(await page.locator('#nav').isHidden()).toBe(true);
    await screenshot(page, 'wrong-token');
  });

  it('logs the admin in and shows the three workers, live', async () => {
    await goto(admin, '#/');
    const rows = admin.locator('#workers tbody tr');
    await expect.poll(() => rows.count(), { timeout: SHOWN_MS }).toBe(3);
    const addresses = await rows.locator('td:first-child').allTextContents();
    const { body } = await api<{ workers: { address: string }[] }>('GET', '/v1/workers');
    expect(addresses.sort()).toEqual(body.workers.map((w) => w.address).sort());
    expect(await admin.locator('#live').getAttribute('class')).toMatch(/\bon\b/);
  });

  it("follows a job's output as it is written", async () => {
    stack.writeScript(
      'gated.sh',
      '#!/bin/sh\necho line-1\necho line-2\nwhile [ ! -e "go-$TM_TASK_ID" ]; do sleep 0.1; done\necho line-3\n',
    );
    const job = await submit({ kind: 'command', command: './gated.sh' });
    const taskId = job.tasks?.[0]?.id ?? '';
    await goto(admin, `#/jobs/${job.id}`);
    const logs = admin.locator('#logs');
    await logs.filter({ hasText: 'line-2' }).waitFor({ timeout: SHOWN_MS });
    // The task waits for the gate: what the page shows came while it ran.
    expect((await api<JobView>('GET', `/v1/jobs/${job.id}`)).body.state).toBe('running');
    expect(await logs.textContent()).not.toContain('line-3');
    writeFileSync(join(stack.workDir, `go-${taskId}`), '');
    await logs.filter({ hasText: 'the job ended: succeeded' }).waitFor({ timeout: SHOWN_MS });
    expect(await logs.textContent()).toMatch(/line-1\s+line-2\s+line-3\s+— the job ended/);
    // The end line comes after the header shows the end, never under a header still running.
    expect(await admin.locator('#job-header [data-state=succeeded]').count()).toBe(1);
    expect(await admin.locator(`tr[data-task="${taskId}"] [data-state=succeeded]`).count()).toBe(1);
    // The task's attempts, as GET /v1/tasks/:id tells them.
    const { body: task } = await api<TaskView>('GET', `/v1/tasks/${taskId}`);
    await admin.click(`tr[data-task="${taskId}"] button`);
    const attempt = admin.locator(`tr[data-task="${taskId}"] + tr tbody tr`);
    await attempt.first().waitFor({ timeout: SHOWN_MS });
    const cells = await attempt.first().locator('td').allTextContents();
    expect(cells.slice(0, 4)).toEqual(['1', task.workerId, 'succeeded', '0']);
    await screenshot(admin, 'job-logs');
  });

  it('cancels a running job from its page', async () => {
    const job = await submit({ kind: 'command', command: 'echo started; sleep 300' });
    await goto(admin, `#/jobs/${job.id}`);
    await admin.locator('#logs').filter({ hasText: 'started' }).waitFor({ timeout: SHOWN_MS });
    await admin.click('#cancel');
    await eventually(
      async () =>
        (await api<JobView>('GET', `/v1/jobs/${job.id}`)).body.state === 'cancelled' || undefined,
      'the API to report the job cancelled',
    );
    await admin.locator('#job-header [data-state=cancelled]').waitFor({ timeout: SHOWN_MS });
    expect(await admin.locator('#cancel').count()).toBe(0);
  });

  it("shows an aggregation's result as the API gives it, and downloads it as CSV", async () => {
    const sql = `SELECT region, sum(quantity) AS units, count(*) AS n
      FROM 's3://test-bucket/dash/sales.parquet' GROUP BY region ORDER BY region`;
    const job = await submit({ kind: 'aggregate', sql }, stack.adminToken, 120);
    expect(job.state).toBe('succeeded');
    const { body: result } = await api<ResultPage>('GET', `/v1/jobs/${job.id}/result?limit=100`);
    expect(result.rows.length).toBeGreaterThan(1);
    await goto(admin, `#/jobs/${job.id}`);
    const table = admin.locator('#result table');
    await table.waitFor({ timeout: SHOWN_MS });
    const names = result.columns.map((c) => c.name);
    const shown = await table
      .locator('tbody tr')
      .evaluateAll((rows) =>
        rows.map((row) => [...row.querySelectorAll('td')].map((td) => td.textContent)),
      );
    const text = (value: unknown) => (value === null ? 'null' : String(value));
    expect(shown).toEqual(result.rows.map((row) => names.map((name) => text(row[name]))));
    const progress = await admin.locator('section', { hasText: 'Aggregation' }).textContent();
    expect(progress).toContain('done');

    const [download] = await Promise.all([
      admin.waitForEvent('download'),
      admin.click('#download-csv'),
    ]);
    const csv = readFileSync((await download.path()) ?? '', 'utf8')
      .trim()
      .split('\r\n');
    expect(csv[0]).toBe(names.join(','));
    expect(csv.slice(1)).toEqual(
      result.rows.map((row) =>
        names.map((name) => (row[name] === null ? '' : String(row[name]))).join(','),
      ),
    );
    const [arrow] = await Promise.all([
      admin.waitForEvent('download'),
      admin.click('#download-arrow'),
    ]);
    const fromArrow = tableFromIPC(readFileSync((await arrow.path()) ?? ''));
    expect(fromArrow.schema.fields.map((f) => f.name)).toEqual(names);
    expect(fromArrow.numRows).toBe(result.total);
    await screenshot(admin, 'aggregation');
  });

  it("draws a dataflow job's stages and edges", async () => {
    const job = await submit(
      {
        kind: 'dataflow',
        name: 'fan-out',
        stages: [
          { name: 'split', kind: 'command', command: 'true', parallelism: 2 },
          { name: 'left', kind: 'command', command: 'true', dependsOn: ['split'] },
          { name: 'right', kind: 'command', command: 'true', dependsOn: ['split'] },
        ],
      },
      stack.adminToken,
      60,
    );
    expect(job.state).toBe('succeeded');
    await goto(admin, `#/jobs/${job.id}`);
    const graph = admin.locator('svg.dag');
    await graph.waitFor({ timeout: SHOWN_MS });
    const stages = await graph
      .locator('g[data-stage]')
      .evaluateAll((all) => all.map((g) => [g.getAttribute('data-stage'), g.textContent]));
    expect(stages).toEqual([
      ['split', 'split (command)succeeded · 2/2'],
      ['left', 'left (command)succeeded · 1/1'],
      ['right', 'right (command)succeeded · 1/1'],
    ]);
    const edges = await graph
      .locator('line[data-edge]')
      .evaluateAll((all) => all.map((line) => line.getAttribute('data-edge')));
    expect(edges.sort()).toEqual(['split->left', 'split->right']);
  });

  it('filters the job list from its form, as GET /v1/jobs does', async () => {
    await goto(admin, '#/jobs');
    const form = admin.locator('#job-filters');
    await form.locator('select[name=kind] option[value=dataflow]').waitFor({ state: 'attached' });
    await form.locator('select[name=kind]').selectOption('dataflow');
    await form.locator('button[type=submit]').click();
    await expect.poll(() => admin.evaluate('location.hash')).toBe('#/jobs?kind=dataflow');
    const { body } = await api<{ jobs: JobView[] }>('GET', '/v1/jobs?kind=dataflow');
    const names = body.jobs.map((job) => job.name ?? job.id);
    expect(names).toEqual(['fan-out']);
    await expect
      .poll(() => admin.locator('#main tbody tr td:first-child').allTextContents())
      .toEqual(names);
    await form.locator('select[name=kind]').selectOption('');
    await form.locator('select[name=state]').selectOption('cancelled');
    await form.locator('button[type=submit]').click();
    await expect
      .poll(() => admin.locator('#main tbody tr td:nth-child(3)').allTextContents())
      .toEqual(['cancelled']);
  });

  it("keeps a tenant to its own jobs and pipelines, in the lists and by the other's URL", async () => {
    const [alpha, beta] = await Promise.all([newTenant('dash-alpha'), newTenant('dash-beta')]);
    const own = await submit({ kind: 'echo', payload: 'alpha' }, alpha.token);
    const other = await submit({ kind: 'echo', payload: 'beta' }, beta.token);
    const page = await loggedIn(alpha.token);
    await goto(page, '#/jobs');
    const links = page.locator('#main table a');
    await links.first().waitFor({ timeout: SHOWN_MS });
    const hrefs = await links.evaluateAll((all) => all.map((a) => a.getAttribute('href')));
    expect(hrefs).toContain(`#/jobs/${own.id}`);
    expect(hrefs).not.toContain(`#/jobs/${other.id}`);
    expect(await page.locator('#nav-tenants').isHidden()).toBe(true);

    await goto(page, `#/jobs/${other.id}`);
    const error = page.locator('#main [role=alert]');
    await error.waitFor({ timeout: SHOWN_MS });
    expect(await error.textContent()).toMatch(/not found/);
    expect(await page.locator('#job-header').count()).toBe(0);
    expect(await page.locator('#logs').count()).toBe(0);
    await screenshot(page, 'tenant-jobs');

    // Its pipelines: one waiting for an executor no agent has, so its task stays queued.
    const granted = await api('PATCH', `/v1/tenants/${alpha.tenant.id}`, {
      permissions: GRANT_ALL,
    });
    expect(granted.status).toBe(200);
    const app = '/api/applications/scans/pipelines';
    const pipeline = {
      name: 'ocr',
      pipeline: [{ executor: 'absent-tool', commands: ['absent-tool {{url}}'] }],
    };
    expect((await api('POST', app, pipeline, alpha.token)).status).toBe(201);
    expect((await api('POST', `${app}/ocr`, { url: 'u' }, alpha.token)).status).toBe(202);
    await goto(page, '#/pipelines');
    const row = page.locator('#main tbody tr', { hasText: 'scans/ocr' });
    await row.waitFor({ timeout: SHOWN_MS });
    const cells = await row.locator('td').allTextContents();
    expect(cells.slice(0, 4)).toEqual(['scans/ocr', '1 of 1', '1', '0']);

    // A token revoked while the page is open: the next call's 401 brings the login back.
    const revoked = await api('DELETE', `/v1/tenants/${alpha.tenant.id}/tokens/${alpha.tokenId}`);
    expect(revoked.status).toBe(200);
    await goto(page, '#/jobs');
    const login = page.locator('#login-error');
    await login.waitFor({ timeout: SHOWN_MS });
    expect(await login.textContent()).toMatch(/no longer accepts this token \(401\)/);
  });

  it('lets the admin pick a tenant and see its pipelines as the API gives them', async () => {
    // The tenant and pipeline of the test before: dash-alpha's scans/ocr, one task queued.
    const { body: listed } = await api<{ tenants: TenantView[] }>('GET', '/v1/tenants');
    const alpha = listed.tenants.find((t) => t.name === 'dash-alpha');
    expect(alpha).toBeDefined();
    const path = `/api/applications/scans/pipelines/ocr?tenant=${alpha?.id}`;
    const { status, body: ocr } = await api<PipelineView>('GET', path);
    expect(status).toBe(200);
    await goto(admin, '#/pipelines');
    const picker = admin.locator('#pipeline-tenant');
    await picker.waitFor({ timeout: SHOWN_MS });
    await picker.selectOption({ label: 'dash-alpha' });
    const row = admin.locator('#pipelines tbody tr', { hasText: 'scans/ocr' });
    await row.waitFor({ timeout: SHOWN_MS });
    const cells = await row.locator('td').allTextContents();
    expect(cells[1]).toBe(`${ocr.version} of ${ocr.latestVersion}`);
    expect(cells[7]).toBe(String(ocr.stats.wantedAgents));
    expect(cells.slice(0, 3)).toEqual(['scans/ocr', '1 of 1', '1']);
    expect(await picker.inputValue()).toBe(alpha?.id);
    // The queue across tenants stays on the page below it, with that task.
    const queued = admin
      .locator('#main section', { hasText: 'across tenants' })
      .locator('tbody tr');
    await expect
      .poll(() => queued.filter({ hasText: 'scans/ocr' }).allTextContents(), {
        timeout: SHOWN_MS,
      })
      .toEqual(['dash-alphascans/ocr10']);
    await screenshot(admin, 'admin-pipelines');
  });

  it('draws the overview: throughput, running jobs, queue; the token never in a URL', async () => {
    const failed = await submit({ kind: 'command', command: 'exit 3', retries: 0 }, undefined, 30);
    expect(failed.state).toBe('failed');
    const running = await submit({ kind: 'command', command: 'sleep 300', name: 'nightly-sleep' });
    await goto(admin, '#/');
    await admin.locator('#overview a', { hasText: 'nightly-sleep' }).waitFor({ timeout: SHOWN_MS });
    const bars = await admin
      .locator('svg.chart rect')
      .evaluateAll((rects) => rects.filter((r) => Number(r.getAttribute('height')) > 0).length);
    expect(bars).toBeGreaterThan(0);
    // The failed attempt, in red, as GET /v1/throughput counts it.
    const { body: counted } = await api<Throughput>('GET', '/v1/throughput');
    expect(counted.buckets.some((bucket) => bucket.failed > 0)).toBe(true);
    await expect
      .poll(
        () =>
          admin
            .locator('svg.chart rect[fill="#d64545"]')
            .evaluateAll((rects) => rects.some((r) => Number(r.getAttribute('height')) > 0)),
        { timeout: SHOWN_MS },
      )
      .toBe(true);
    await screenshot(admin, 'overview');
    await api('POST', `/v1/jobs/${running.id}/cancel`);
    expect(requested.length).toBeGreaterThan(0);
    expect(requested.filter((url) => url.includes(stack.adminToken))).toEqual([]);
    expect(consoleErrors).toEqual([]);
    const page = await fetch(`${stack.url}/`);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('content-security-policy')).toMatch(/script-src 'self'/);
  });

  it('never locks a caller out of the live stream however often its tabs reload', async () => {
    // More than the per-caller cap (8) one after another, each dropped after its first event
    // before the Scheduler can have noticed: a newer stream closes the caller's oldest.
    for (let i = 0; i < 12; i++) {
      const control = new AbortController();
      const response = await fetch(`${stack.url}/v1/events`, {
        headers: { authorization: `Bearer ${stack.adminToken}` },
        signal: control.signal,
      });
      expect(response.status).toBe(200);
      const reader = response.body!.getReader();
      expect(new TextDecoder().decode((await reader.read()).value)).toMatch(/^event: overview/);
      control.abort();
    }
  });

  it('closes the live stream while the tab is hidden, and opens it again when shown', async () => {
    await goto(admin, '#/');
    const live = admin.locator('#live');
    await expect.poll(() => live.getAttribute('class')).toMatch(/\bon\b/);
    // A string, run in the page: the tests are type-checked without the DOM's types.
    const setHidden = (hidden: boolean) =>
      admin.evaluate(`(() => {
        const state = ${JSON.stringify(hidden ? 'hidden' : 'visible')};
        Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => state });
        document.dispatchEvent(new Event('visibilitychange'));
      })()`);
    const closed = admin.waitForEvent('requestfailed', (r) => r.url().endsWith('/v1/events'));
    await setHidden(true);
    expect((await closed).failure()?.errorText).toMatch(/ABORTED/);
    expect(await live.textContent()).toBe('paused while the tab is hidden');
    const reopened = admin.waitForRequest((r) => r.url().endsWith('/v1/events'));
    await setHidden(false);
    await reopened;
    await expect.poll(() => live.getAttribute('class'), { timeout: SHOWN_MS }).toMatch(/\bon\b/);
  });

  it('shows a lost live stream and reconnects by itself', async () => {
    await goto(admin, '#/');
    const live = admin.locator('#live');
    await expect.poll(() => live.getAttribute('class')).toMatch(/\bon\b/);
    const restarted = stack.restartControlPlane();
    await expect
      .poll(() => live.textContent(), { timeout: SHOWN_MS })
      .toMatch(/connection lost|connecting/);
    await restarted;
    await expect.poll(() => live.getAttribute('class'), { timeout: SHOWN_MS }).toMatch(/\bon\b/);
    await expect
      .poll(() => admin.locator('#workers tbody tr').count(), { timeout: SHOWN_MS })
      .toBe(3);
  });
});
