/**
 * End to end: aggregations whose object store refuses, throttles, hangs or cuts uploads, through a
 * fault proxy registered as a second store over the same bucket. Planning (the Durable Object's
 * listing) passes; the agents' reads and writes fail. Tasks retry, then fail with a clear error;
 * a half-written object is never read.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { JobView, MapResult, SubmitJobRequest, TaskView } from '../../protocol/index.ts';
import { createObjectStore } from '../../worker-agent/storage/object-store.ts';
import { startTestStack, type TestStack } from '../support/stack.ts';
import {
  registerProxiedStore,
  startFaultProxy,
  type Fault,
  type FaultProxy,
} from '../support/s3-fault-proxy.ts';
import { createDatasets, duckdbRows, type Datasets } from '../support/datasets.ts';
import { eventually } from '../support/wait.ts';

/** The store the jobs read and write through the proxy. */
const FLAKY = 'flaky';

let stack: TestStack;
let proxy: FaultProxy;
let data: Datasets;
/** Key prefix of the CSV inputs. */
let inputs: string;

beforeAll(async () => {
  // A short S3 timeout keeps the hung-store case quick. No block cache: every job here runs over
  // the same inputs, and its reads must reach the (faulty) store each time.
  stack = await startTestStack({
    agents: 2,
    s3: true,
    agentArgs: ['--store-timeout-ms', '2000', '--cache-mb', '0'],
  });
  proxy = await startFaultProxy(stack.s3!.endpoint);
  const store = createObjectStore(stack.s3!.access);
  data = await createDatasets({ store, prefix: 'store-faults/', files: 4, rowsPerFile: 5000 });
  store.close();
  inputs = `${data.prefix}csv/`;
  await registerProxiedStore(stack.client, FLAKY, proxy);
}, 180_000);

afterAll(async () => {
  await stack?.stop();
  await proxy?.stop();
  await data?.cleanup();
});

beforeEach(() => {
  proxy.setRules();
  proxy.clearLog();
});

function aggregate(retries?: number): SubmitJobRequest {
  return {
    kind: 'aggregate',
    source: { store: FLAKY, prefix: inputs, format: 'csv' },
    groupBy: ['category'],
    aggregates: [
      { op: 'count' },
      { op: 'sum', column: 'n' },
      { op: 'count_distinct', column: 'day' },
    ],
    // Every intermediate goes through the faulty store, however small.
    inlineIntermediates: false,
    ...(retries === undefined ? {} : { retries }),
  };
}

async function tasksOf(job: JobView, kind: string): Promise<TaskView[]> {
  const tasks = (await stack.client.getJob(job.id)).tasks ?? [];
  return tasks.filter((task) => task.kind === kind);
}

/** The job's result, row by row as strings, against DuckDB's answer over the same files. */
async function expectDuckdbResult(job: JobView): Promise<void> {
  const page = await stack.client.result(job.id, 0, 1000);
  const ours = page.rows.map((row) => page.columns.map((c) => String(row[c.name]))).sort();
  const theirs = (
    await duckdbRows(
      `SELECT category, count(*), sum(n), count(DISTINCT day) FROM read_csv('${data.glob('csv')}') GROUP BY category`,
    )
  )
    .map((row) => Object.values(row).map(String))
    .sort();
  expect(ours.length).toBeGreaterThan(0);
  expect(ours).toEqual(theirs);
}

describe('a store that fails the first reads', () => {
  it.each<[string, Fault]>([
    ['refuses them', 'refuse'],
    ['answers 503 SlowDown', 'slow-down'],
    ['answers 500 InternalError', 'internal-error'],
  ])('%s: the map tasks retry and the result equals DuckDB', async (_name, fault) => {
    // Two whole read calls fail (every SDK retry of each), so two map attempts fail.
    proxy.setRules({ fault, method: 'GET', key: inputs, calls: 2 });
    const job = await stack.client.submitJob(aggregate(), 120);
    expect(job.error).toBeNull();
    expect(job.state).toBe('succeeded');

    const faulted = proxy.requests.filter((r) => r.fault !== null);
    expect(new Set(faulted.map((r) => r.call)).size).toBe(2);
    expect(faulted.every((r) => r.method === 'GET' && r.key!.startsWith(inputs))).toBe(true);
    const maps = await tasksOf(job, 'aggregate-map');
    expect(maps.reduce((retried, task) => retried + task.attempt - 1, 0)).toBe(2);
    expect(maps.every((task) => task.state === 'succeeded')).toBe(true);
    await expectDuckdbResult(job);
  });
});

describe('a store that stays down', () => {
  let failed: JobView;

  beforeAll(async () => {
    proxy.setRules({ fault: 'refuse', method: 'GET', key: inputs });
    failed = await stack.client.submitJob(aggregate(), 120);
  });

  it('fails the job after the retries, with one clear line naming the store and the object', async () => {
    expect(failed.state).toBe('failed');
    const maps = await tasksOf(failed, 'aggregate-map');
    const last = maps.find((task) => task.state === 'failed');
    expect(last?.attempt).toBe(3); // the first attempt and the job's two retries
    const error = failed.error ?? '';
    expect(error).toContain(proxy.endpoint);
    expect(error).toMatch(/store-faults\/csv\/part-\d\.csv/);
    expect(error).not.toMatch(/\n\s+at /); // no stack trace
    expect(error).not.toContain('S3RVER'); // no credentials
  });

  it('says the connection was reset, not that the store was silent for 30 s', () => {
    expect(failed.error).toMatch(/connection reset/);
    expect(failed.error).not.toMatch(/no answer within/);
  });

  it('then runs the next jobs fine once the store is back', async () => {
    proxy.setRules();
    const echo = await stack.client.submitJob({ kind: 'echo', payload: 'still here' }, 30);
    expect(echo.state).toBe('succeeded');
    const job = await stack.client.submitJob(aggregate(), 120);
    expect(job.error).toBeNull();
    expect(job.state).toBe('succeeded');
    await expectDuckdbResult(job);
  });
});

describe('a store that hangs', () => {
  // The agents run with --store-timeout-ms 2000, and the SDK makes three requests per call.
  it('times out in the agent, retries the call, then fails the job naming the timeout', async () => {
    const hungKey = `${inputs}part-0.csv`;
    proxy.setRules({ fault: 'hang', method: 'GET', key: hungKey });
    const submitted = await stack.client.submitJob(aggregate(0));
    const job = await stack.client.waitJob(submitted.id, 60_000);
    expect(job.state).toBe('failed');
    expect(job.error).toContain(hungKey);
    expect(job.error).toMatch(/no answer within 2 s/);

    const hung = proxy.requests.filter((r) => r.fault === 'hang');
    expect(hung.length).toBeGreaterThanOrEqual(2); // the call was retried
    expect(new Set(hung.map((r) => r.call)).size).toBe(1);
    await eventually(
      () => (hung.every((r) => r.abandoned) ? true : undefined),
      'the agent to give up on every hung request',
    );
  });
});

describe('an upload cut halfway', () => {
  it('is never read: the retried attempts write the outputs the next steps read', async () => {
    // Every first attempt of every step loses its upload halfway (with each SDK retry of it).
    proxy.setRules({
      fault: 'cut-upload',
      method: 'PUT',
      key: /\/map\/[^/]+\/attempt-1\/|\/reduce\/[^/]+\/attempt-1\.arrow$|\/result-[^/]+\.attempt-1\.arrow$/,
    });
    const job = await stack.client.submitJob(aggregate(), 120);
    expect(job.error).toBeNull();
    expect(job.state).toBe('succeeded');

    const cut = proxy.requests.filter((r) => r.fault === 'cut-upload');
    const steps = ['/map/', '/reduce/', '/result-'];
    expect(steps.every((step) => cut.some((r) => r.key!.includes(step)))).toBe(true);

    for (const kind of ['aggregate-map', 'aggregate-reduce', 'aggregate-final']) {
      const tasks = await tasksOf(job, kind);
      expect(tasks.length).toBeGreaterThan(0);
      expect(tasks.every((task) => task.attempt === 2 && task.state === 'succeeded')).toBe(true);
      const written = JSON.stringify(tasks.map((task) => task.result));
      expect(written).not.toContain('attempt-1');
      expect(written).toContain('attempt-2');
    }
    await expectDuckdbResult(job);

    // No reader (reduce, final, or the Durable Object serving the result) asked for a cut object;
    // the small result came back inline with the final step, so nothing read it back at all.
    const halfWritten = new Set(cut.map((r) => r.key));
    const reads = proxy.requests.filter((r) => r.method === 'GET' && r.key !== null);
    expect(reads.filter((r) => halfWritten.has(r.key))).toEqual([]);
    expect(reads.filter((r) => r.key!.includes('/result-'))).toEqual([]);
  });
});

describe('a store that refuses deletes when the job ends', () => {
  it('keeps the intermediates while it does, and deletes them once it answers again', async () => {
    // The Scheduler deletes with DeleteObjects: a POST to `?delete`.
    proxy.setRules({ fault: 'refuse', method: 'POST' });
    // Well inside the test's own timeout, so a job that stalls fails here, saying how far it got.
    const job = await stack.client.submitJob(aggregate(), 45);
    expect(job.state, `job ${job.id} after 45 s: ${JSON.stringify(job.counts)}`).toBe('succeeded');
    const partials = (await tasksOf(job, 'aggregate-map')).flatMap((task) =>
      (task.result as MapResult).partitions.flatMap((p) => (p.key ? [p.key] : [])),
    );
    expect(partials.length).toBeGreaterThan(0);
    await eventually(
      () => (proxy.requests.some((r) => r.method === 'POST' && r.fault) ? true : undefined),
      'a refused delete',
    );
    const store = createObjectStore(stack.s3!.access);
    const left = async () => {
      const keys = new Set<string>();
      const folder = partials[0]!.slice(0, partials[0]!.indexOf('/map/') + 1);
      for await (const object of store.list(folder)) keys.add(object.key);
      return partials.filter((key) => keys.has(key));
    };
    try {
      expect(await left()).toEqual(partials);
      await expectDuckdbResult(job);
      proxy.setRules();
      await eventually(
        async () => ((await left()).length === 0 ? true : undefined),
        'the intermediates to be deleted once the store answers',
      );
      await expectDuckdbResult(job);
    } finally {
      store.close();
    }
  });
});
