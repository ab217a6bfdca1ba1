/**
 * End to end: Prometheus metrics on the real stack (docs/observability.md). The control plane's
 * `GET /metrics` and both agents' `/metrics` are scraped before and after real work (command jobs,
 * one failing; an aggregation run twice, the second from the agents' caches), and every counter
 * moves by the work done; a tenant's running task shows in the queue gauge; the counters outlive
 * a restart of the control plane; only the admin and the metrics token may read them.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobView } from '../../protocol/index.ts';
import { createObjectStore } from '../../worker-agent/storage/object-store.ts';
import { startTestStack, type TestStack } from '../support/stack.ts';
import { createDatasets, type Datasets } from '../support/datasets.ts';
import { mapTasks } from '../support/map-tasks.ts';
import { grantTenant } from '../support/tenants.ts';
import { eventually } from '../support/wait.ts';

const METRICS_TOKEN = 'tm-metrics-e2e-0123456789abcdef';
const REPO = join(import.meta.dirname, '../..');
const PREFIX = 'metrics/';

let stack: TestStack;
let data: Datasets;

beforeAll(async () => {
  stack = await startTestStack({
    agents: 2,
    s3: true,
    vars: { TM_METRICS_TOKEN: METRICS_TOKEN },
  });
  const store = createObjectStore(stack.s3!.access);
  data = await createDatasets({ store, prefix: PREFIX, files: 2, rowsPerFile: 3000 });
  store.close();
}, 180_000);

afterAll(async () => {
  await stack?.stop();
  await data?.cleanup();
});

/** Samples by their series as written, `name{labels}`. */
type Samples = Map<string, number>;

function parse(text: string): Samples {
  const samples: Samples = new Map();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    samples.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return samples;
}

function scrapeControlPlane(token: string | null) {
  return fetch(`${stack.url}/metrics`, {
    headers: token === null ? {} : { authorization: `Bearer ${token}` },
  });
}

async function controlPlane(): Promise<Samples> {
  const response = await scrapeControlPlane(METRICS_TOKEN);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
  return parse(await response.text());
}

/** Both agents' samples, summed series by series. */
async function agents(): Promise<Samples> {
  const sum: Samples = new Map();
  for (const agent of stack.agents) {
    const response = await fetch(agent.healthUrl.replace(/\/healthz$/, '/metrics'));
    for (const [series, value] of parse(await response.text()))
      sum.set(series, (sum.get(series) ?? 0) + value);
  }
  return sum;
}

const value = (samples: Samples, series: string) => {
  const found = samples.get(series);
  if (found === undefined) throw new Error(`no series ${series}`);
  return found;
};
/** How far a counter moved; a series not yet counted before starts at 0. */
const delta = (before: Samples, after: Samples, series: string) =>
  value(after, series) - (before.get(series) ?? 0);

const STARTED = 'tm_task_attempts_started_total';
const ended = (outcome: string) => `tm_task_attempts_ended_total{outcome="${outcome}"}`;
const SUBMITS = 'tm_http_requests_total{method="POST",route="/v1/jobs",status="202"}';
const WHOAMI = 'tm_http_requests_total{method="GET",route="/v1/whoami",status="200"}';

async function submit(request: Parameters<TestStack['client']['submitJob']>[0]) {
  const job = await stack.client.submitJob(request);
  return stack.client.waitJob(job.id, 120_000);
}

const aggregate = (aggregates: { op: 'sum' | 'min' | 'max'; column: string }[]) =>
  submit({
    kind: 'aggregate',
    source: { store: 'test-bucket', prefix: `${PREFIX}parquet/`, format: 'parquet' },
    groupBy: ['category'],
    aggregates,
  }).then((job) => stack.client.getJob(job.id, 100));

const taskCount = (jobs: readonly JobView[]) =>
  jobs.reduce((sum, job) => sum + (job.tasks?.length ?? 0), 0);

describe('GET /metrics access', () => {
  it('refuses no token and a wrong token with 401, and a tenant token with 403', async () => {
    const missing = await scrapeControlPlane(null);
    expect(missing.status).toBe(401);
    expect(await missing.json()).toMatchObject({ error: { code: 'unauthorized' } });
    const wrong = await scrapeControlPlane('not-the-metrics-token');
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toMatchObject({ error: { code: 'unauthorized' } });
    const tenant = await stack.client.createTenant({ name: 'metrics-reader' });
    const refused = await scrapeControlPlane(tenant.token);
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({ error: { code: 'forbidden' } });
  });

  it('serves the admin token and the metrics token, and the metrics token nothing else', async () => {
    expect((await scrapeControlPlane(stack.adminToken)).status).toBe(200);
    expect((await scrapeControlPlane(METRICS_TOKEN)).status).toBe(200);
    const jobs = await fetch(`${stack.url}/v1/jobs`, {
      headers: { authorization: `Bearer ${METRICS_TOKEN}` },
    });
    expect(jobs.status).toBe(401);
  });

  it('shows the agents by state and the storage', async () => {
    const samples = await controlPlane();
    expect(value(samples, 'tm_agents{state="ready",connected="true"}')).toBe(2);
    expect(value(samples, 'tm_agents{state="lost",connected="false"}')).toBe(0);
    expect(value(samples, 'tm_scheduler_storage_bytes')).toBeGreaterThan(0);
  });
});

describe('counters', () => {
  it('move by the work done: attempts by outcome, latencies, requests, agents’ reads', async () => {
    const before = await controlPlane();
    const agentsBefore = await agents();

    const commands = [];
    for (let i = 0; i < 3; i++) commands.push(await submit({ kind: 'command', command: 'true' }));
    const failing = await submit({ kind: 'command', command: 'exit 3', retries: 0 });
    expect(commands.map((job) => job.state)).toEqual(['succeeded', 'succeeded', 'succeeded']);
    expect(failing.state).toBe('failed');
    const first = await aggregate([{ op: 'sum', column: 'v' }]);
    expect(first.state).toBe('succeeded');
    const afterFirst = await agents();
    // Same columns again: every map reads from the cache of the agent that read it first.
    const second = await aggregate([{ op: 'min', column: 'v' }]);
    expect(second.state).toBe('succeeded');

    const succeeded = taskCount([...commands, first, second]);
    const attempts = succeeded + 1;
    // The request counts land in the background, after their responses.
    const after = await eventually(async () => {
      const samples = await controlPlane();
      return delta(before, samples, SUBMITS) >= 6 ? samples : undefined;
    }, 'the submits to be counted');
    expect(delta(before, after, SUBMITS)).toBe(6);
    expect(delta(before, after, STARTED)).toBe(attempts);
    expect(delta(before, after, ended('succeeded'))).toBe(succeeded);
    expect(delta(before, after, ended('failed'))).toBe(1);
    expect(delta(before, after, ended('lost'))).toBe(0);
    expect(delta(before, after, ended('timed_out'))).toBe(0);
    // Every task was a first attempt: each has its wait and its run in the histograms.
    expect(delta(before, after, 'tm_task_queue_seconds_count')).toBe(attempts);
    expect(delta(before, after, 'tm_task_run_seconds_count')).toBe(attempts);
    expect(value(after, 'tm_task_run_seconds_bucket{le="+Inf"}')).toBe(
      value(after, 'tm_task_run_seconds_count'),
    );
    expect(delta(before, after, 'tm_task_run_seconds_sum')).toBeGreaterThan(0);
    // The job views went through their route pattern, never their paths.
    const views = [...after.keys()].filter((series) => series.includes('route="/v1/jobs/:id"'));
    expect(views.length).toBeGreaterThan(0);
    expect([...after.keys()].some((series) => series.includes(first.id))).toBe(false);

    const agentsAfter = await agents();
    const read = (job: JobView) => mapTasks(job).map(({ result }) => result);
    const fromStore = read(first).reduce((sum, r) => sum + r.bytesRead - r.bytesCached, 0);
    const fromCache = read(second).reduce((sum, r) => sum + r.bytesCached, 0);
    expect(fromStore).toBeGreaterThan(0);
    expect(fromCache).toBeGreaterThan(0);
    const STORE = 'tm_agent_read_bytes_total{source="store"}';
    const CACHE = 'tm_agent_read_bytes_total{source="cache"}';
    expect(delta(agentsBefore, afterFirst, STORE)).toBe(fromStore);
    expect(delta(afterFirst, agentsAfter, CACHE)).toBe(fromCache);
    expect(delta(agentsBefore, agentsAfter, 'tm_agent_map_rows_total')).toBe(2 * data.totalRows);
    expect(delta(agentsBefore, agentsAfter, 'tm_agent_tasks_completed_total')).toBe(succeeded);
    expect(delta(agentsBefore, agentsAfter, 'tm_agent_tasks_failed_total')).toBe(1);
    expect(value(agentsAfter, 'tm_agent_tasks_running{kind="command"}')).toBe(0);
    expect(value(agentsAfter, 'process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(value(agentsAfter, 'tm_agent_event_loop_lag_seconds')).toBeGreaterThanOrEqual(0);
  });
});

describe('gauges', () => {
  it('show a tenant’s running task in the queue and on its agent; a cancel counts', async () => {
    const tenant = await stack.client.createTenant({ name: 'metrics-tenant' });
    await grantTenant(stack.client, tenant.tenant.id);
    const before = await controlPlane();
    const response = await fetch(`${stack.url}/v1/jobs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tenant.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'command', command: 'sleep 300' }),
    });
    expect(response.status).toBe(202);
    const job = (await response.json()) as JobView;
    const running = 'tm_queue_tasks{tenant="metrics-tenant",pipeline="",state="running"}';
    await eventually(async () => {
      const samples = await controlPlane();
      return samples.get(running) === 1 && delta(before, samples, STARTED) === 1 ? true : undefined;
    }, 'the running task in the queue gauge');
    await eventually(
      async () =>
        value(await agents(), 'tm_agent_tasks_running{kind="command"}') === 1 ? true : undefined,
      'the running command on its agent',
    );

    await stack.client.cancelJob(job.id);
    const after = await eventually(async () => {
      const samples = await controlPlane();
      return samples.has(running) ? undefined : samples;
    }, 'the queue to empty');
    expect(delta(before, after, ended('cancelled'))).toBe(1);
    expect(delta(before, after, 'tm_task_run_seconds_count')).toBe(1);
  });
});

describe('docs/observability.md and the Grafana dashboard', () => {
  const typed = async () => {
    const texts = [await (await scrapeControlPlane(METRICS_TOKEN)).text()];
    for (const agent of stack.agents)
      texts.push(await (await fetch(agent.healthUrl.replace(/\/healthz$/, '/metrics'))).text());
    return new Set(
      texts.flatMap((text) => [...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]!)),
    );
  };

  it('document exactly the series both ends serve', async () => {
    const served = await typed();
    // The metrics part of the page: its Logs section's tables are of log fields.
    const doc = readFileSync(join(REPO, 'docs/observability.md'), 'utf8').split(/^## Logs$/m)[0]!;
    const documented = new Set([...doc.matchAll(/^\| `([a-z_]+)[`{ ]/gm)].map((m) => m[1]!));
    expect([...documented].sort()).toEqual([...served].sort());
  });

  it('chart only series that are served', async () => {
    const served = await typed();
    const dashboard = JSON.parse(
      readFileSync(join(REPO, 'docs/grafana-dashboard.json'), 'utf8'),
    ) as { panels: { targets?: { expr: string }[] }[] };
    const exprs = dashboard.panels.flatMap((panel) => panel.targets ?? []).map((t) => t.expr);
    const charted = new Set(
      exprs.flatMap((expr) =>
        [...expr.matchAll(/\b(tm_[a-z_]+|process_[a-z_]+)\b/g)].map((m) => m[1]!),
      ),
    );
    expect(charted.size).toBeGreaterThan(10);
    for (const name of charted) expect(served, name).toContain(name.replace(/_bucket$/, ''));
  });
});

describe('a restart of the control plane', () => {
  it('keeps every counter, and the request counts an isolate sent by itself before it', async () => {
    const before = await controlPlane();
    // Counted in the Worker, and sent to the Scheduler within FLUSH_MS with no scrape to send them.
    const headers = { authorization: `Bearer ${stack.adminToken}` };
    for (let i = 0; i < 3; i++)
      expect((await fetch(`${stack.url}/v1/whoami`, { headers })).status).toBe(200);
    // Three times src/metrics/request-counter.ts's FLUSH_MS (1 s).
    await new Promise((resolve) => setTimeout(resolve, 3000));
    await stack.restartControlPlane();
    const after = await controlPlane();
    expect(delta(before, after, WHOAMI)).toBe(3);
    for (const series of [
      STARTED,
      ended('succeeded'),
      ended('failed'),
      ended('cancelled'),
      'tm_task_queue_seconds_count',
      'tm_task_run_seconds_count',
      'tm_task_run_seconds_sum',
      SUBMITS,
    ]) {
      expect(value(after, series), series).toBe(value(before, series));
    }
  });
});
