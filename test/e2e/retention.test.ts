/**
 * End to end: retention deletes finished jobs with all their rows, logs and result objects, leaves
 * running jobs alone, finishes a removal cut short by a restart, answers 404 `job_removed` for what
 * it removed (to the job's owner only), and keeps at most TM_MAX_FINISHED_JOBS finished jobs.
 * The storage report (`GET /v1/admin/storage`) is what the row counts are read from.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from '../support/stack.ts';
import { eventually } from '../support/wait.ts';
import { createObjectStore } from '../../worker-agent/storage/object-store.ts';
import type { ObjectStore } from '../../worker-agent/storage/store.ts';
import { createDatasets, type Datasets } from '../support/datasets.ts';
import { TmClient } from '../../cli/sdk/client.ts';
import { TmApiError } from '../../cli/sdk/errors.ts';
import { StorageReport, type JobView, type SubmitJobRequest } from '../../protocol/index.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runTmProcess } from '../support/tm-process.ts';
import {
  registerProxiedStore,
  startFaultProxy,
  type FaultProxy,
} from '../support/s3-fault-proxy.ts';

const MAX_FINISHED = 4;
/** The loopback bucket again, through a proxy that can refuse every call. */
/** Rows per deleting transaction: small, so a removal lasts long enough to restart during it. */
const BATCH_ROWS = 2;
const FLAKY = 'flaky-bucket';

let stack: TestStack;
let store: ObjectStore;
let data: Datasets;
/** A config dir of this file's own, so the tm processes read no real config. */
let home: string;
let proxy: FaultProxy;

beforeAll(async () => {
  stack = await startTestStack({
    agents: 1,
    slots: 2,
    s3: true,
    vars: {
      TM_HEARTBEAT_MS: '500',
      TM_LEASE_MS: '2000',
      TM_RETENTION_SECONDS: '3600',
      TM_MAX_FINISHED_JOBS: String(MAX_FINISHED),
      TM_RETENTION_CHECK_SECONDS: '1',
      // Small batches make a removal take long enough to restart the control plane during it.
      TM_RETENTION_BATCH_ROWS: String(BATCH_ROWS),
    },
  });
  home = mkdtempSync(join(tmpdir(), 'tm-retention-home-'));
  store = createObjectStore(stack.s3!.access);
  data = await createDatasets({ store, prefix: 'retention/', files: 2, rowsPerFile: 1000 });
  proxy = await startFaultProxy(stack.s3!.endpoint);
  await registerProxiedStore(stack.client, FLAKY, proxy);
}, 180_000);

afterAll(async () => {
  if (home) rmSync(home, { recursive: true, force: true });
  store?.close();
  await data?.cleanup();
  await stack?.stop();
  await proxy?.stop();
});

const storage = () => stack.client.storage();

/** The API error a call fails with (it must fail). */
async function failure(call: Promise<unknown>): Promise<TmApiError> {
  const error = await call.then(
    () => null,
    (thrown: unknown) => thrown,
  );
  if (!(error instanceof TmApiError))
    throw new Error(`expected an API error, got ${String(error)}`);
  return error;
}

async function removed(client: TmClient, id: string): Promise<TmApiError> {
  return eventually(async () => {
    const error = await client.getJob(id).then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    if (error === undefined) return undefined;
    if (error instanceof TmApiError && error.code === 'job_removed') return error;
    throw error;
  }, `job ${id} to be removed`);
}

/** Waits until no removal is under way, and returns the report then. */
async function settled(): Promise<StorageReport> {
  return eventually(async () => {
    const report = await storage();
    const { pendingJobs, pendingObjectFolders } = report.removal;
    return pendingJobs === 0 && pendingObjectFolders === 0 ? report : undefined;
  }, 'removals to finish');
}

const JOB_TABLES = ['jobs', 'tasks', 'task_attempts', 'logs'] as const;
const jobRows = (report: StorageReport) =>
  Object.fromEntries(JOB_TABLES.map((table) => [table, report.tables[table]]));

async function objectsUnder(prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const object of store.list(prefix)) keys.push(object.key);
  return keys;
}

describe('retention', () => {
  it('refuses a job retention longer than the cluster keeps, naming the limit', async () => {
    const error = await failure(
      stack.client.submitJob({ kind: 'echo', payload: 1, retentionSeconds: 7200 }),
    );
    expect(error.status).toBe(400);
    expect(error.code).toBe('bad_request');
    expect(error.message).toContain('3600 s, TM_RETENTION_SECONDS');
  });

  it("tm submit --retention sets the job's own retention, and is refused past the cluster's", async () => {
    const tm = (args: string[]) =>
      runTmProcess({ url: stack.url, token: stack.adminToken, configHome: home }, args);
    const kept = await tm([
      'submit',
      'command',
      '--retention',
      '1',
      '--wait',
      '--json',
      '--',
      'true',
    ]);
    expect(kept.code).toBe(0);
    const job = JSON.parse(kept.stdout) as JobView;
    expect(job.state).toBe('succeeded');
    const keptFor = (view: JobView) => Date.parse(view.removeAfter!) - Date.parse(view.finishedAt!);
    expect(keptFor(job)).toBe(1000);
    expect((await removed(stack.client, job.id)).status).toBe(404);
    // Without a retention of its own, a job is kept the cluster's (TM_RETENTION_SECONDS, 1 h).
    const plain = await stack.client.submitJob({ kind: 'echo', payload: 1 }, 60);
    expect(keptFor(plain)).toBe(3600 * 1000);
    const refused = await tm(['submit', 'command', '--retention', '7200', '--', 'true']);
    // A 400 from the API is bad usage, as a malformed --retention is.
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('3600 s, TM_RETENTION_SECONDS');
    const malformed = await tm(['submit', 'command', '--retention', 'soon', '--', 'true']);
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toContain('--retention');
  });

  it('removes a finished job after 1 s with its tasks, attempts and logs; reads of it say so', async () => {
    const before = await settled();
    const job = await stack.client.submitJob(
      { kind: 'command', command: 'echo hello; echo world >&2', workers: 1, retentionSeconds: 1 },
      60,
    );
    expect(job.state).toBe('succeeded');
    const taskId = job.tasks![0]!.id;
    const { entries } = await stack.client.logs({ jobId: job.id });
    expect(entries.map((e) => e.data).join('')).toContain('hello');

    const error = await removed(stack.client, job.id);
    expect(error.status).toBe(404);
    expect(error.message).toMatch(new RegExp(`job ${job.id} was removed by retention at \\S+Z`));
    expect((await stack.client.listJobs()).map((j) => j.id)).not.toContain(job.id);
    const logs = await failure(stack.client.logs({ jobId: job.id }));
    expect([logs.status, logs.code]).toEqual([404, 'job_removed']);
    const task = await failure(stack.client.getTask(taskId));
    expect([task.status, task.code]).toEqual([404, 'not_found']);

    const after = await settled();
    expect(jobRows(after)).toEqual(jobRows(before));
    expect(after.tables.removed_jobs).toBeGreaterThan(before.tables.removed_jobs ?? 0);
  });

  it('never touches a running job, however short its retention', async () => {
    const job = await stack.client.submitJob({
      kind: 'command',
      command: 'echo started; exec sleep 60',
      workers: 1,
      retentionSeconds: 1,
    });
    await eventually(async () => {
      const view = await stack.client.getJob(job.id);
      return view.counts.running === 1 ? true : undefined;
    }, 'the sleep to run');
    // Another job with the same retention ends and is removed: sweeps have run meanwhile.
    const other = await stack.client.submitJob(
      { kind: 'echo', payload: 1, retentionSeconds: 1 },
      60,
    );
    await removed(stack.client, other.id);
    const view = await stack.client.getJob(job.id);
    expect(view.state).toBe('running');
    expect(view.removeAfter).toBeNull();
    expect(view.tasks).toHaveLength(1);
    // Once it has ended, it goes like any other.
    await stack.client.cancelJob(job.id);
    await removed(stack.client, job.id);
  });

  it('a removal cut short by a control plane restart finishes after it', async () => {
    const before = await settled();
    const count = 20_000;
    const job = await stack.client.submitJob(
      { kind: 'echo', payload: 'x', count, retentionSeconds: 1 },
      120,
    );
    expect(job.state).toBe('succeeded');
    const grown = await storage();
    expect(grown.tables.tasks).toBe((before.tables.tasks ?? 0) + count);

    const midway = await eventually(async () => {
      const report = await storage();
      const tasks = report.tables.tasks ?? 0;
      return report.removal.pendingJobs === 1 && tasks < (grown.tables.tasks ?? 0)
        ? report
        : undefined;
    }, 'the removal to be under way');
    await stack.restartControlPlane();
    const restarted = await storage();
    expect(restarted.tables.tasks ?? 0).toBeGreaterThan(before.tables.tasks ?? 0);
    expect(restarted.tables.tasks ?? 0).toBeLessThanOrEqual(midway.tables.tasks ?? 0);

    // Still hidden while its rows go, and gone entirely once they have.
    expect((await failure(stack.client.getJob(job.id))).code).toBe('job_removed');
    const after = await settled();
    expect(jobRows(after)).toEqual(jobRows(before));
    console.log(
      `retention: ${count} echo tasks: database ${before.databaseSizeBytes} B before, ` +
        `${grown.databaseSizeBytes} B with the job, ${after.databaseSizeBytes} B after its removal`,
    );
  });

  it("deletes an aggregation's result objects with it, but not those under a prefix it named", async () => {
    const request = (extra: Partial<Extract<SubmitJobRequest, { kind: 'aggregate' }>>) =>
      ({
        kind: 'aggregate',
        source: { store: 'test-bucket', prefix: 'retention/csv/', format: 'csv' },
        groupBy: ['category'],
        aggregates: [{ op: 'count' }],
        retentionSeconds: 15,
        ...extra,
      }) satisfies SubmitJobRequest;
    const own: JobView = await stack.client.submitJob(request({}), 120);
    const named: JobView = await stack.client.submitJob(
      request({ output: { store: 'test-bucket', prefix: 'kept-results/' } }),
      120,
    );
    expect([own.state, named.state]).toEqual(['succeeded', 'succeeded']);
    expect((await stack.client.result(own.id)).rows.length).toBeGreaterThan(0);
    const ownFolder = `_tm/jobs/${own.id}/`;
    expect(await objectsUnder(ownFolder)).not.toEqual([]);
    const namedResults = (await objectsUnder('kept-results/')).filter((key) =>
      key.includes(named.id),
    );
    expect(namedResults).not.toEqual([]);

    await removed(stack.client, own.id);
    await removed(stack.client, named.id);
    await settled();
    expect(await objectsUnder(ownFolder)).toEqual([]);
    expect((await objectsUnder('kept-results/')).filter((key) => key.includes(named.id))).toEqual(
      namedResults,
    );
    const result = await failure(stack.client.result(own.id));
    expect([result.status, result.code]).toEqual([404, 'job_removed']);
  });

  it('deletes the rows while the store is down, and the result objects once it is back', async () => {
    const job = await stack.client.submitJob(
      {
        kind: 'aggregate',
        source: { store: FLAKY, prefix: 'retention/csv/', format: 'csv' },
        aggregates: [{ op: 'count' }],
        retentionSeconds: 1,
      },
      120,
    );
    expect(job.state).toBe('succeeded');
    const folder = `_tm/jobs/${job.id}/`;
    expect(await objectsUnder(folder)).not.toEqual([]);
    proxy.clearLog();
    proxy.setRules({ fault: 'refuse' });

    await removed(stack.client, job.id);
    const down = await eventually(async () => {
      const report = await storage();
      const tried = proxy.requests.some((r) => r.fault === 'refuse');
      return report.removal.pendingJobs === 0 && tried ? report : undefined;
    }, 'the rows to go and the store to be tried');
    expect(down.removal.pendingObjectFolders).toBe(1);
    expect(await objectsUnder(folder)).not.toEqual([]);

    proxy.setRules();
    await settled();
    expect(await objectsUnder(folder)).toEqual([]);
  });

  it('tells a tenant its own job was removed, and another tenant nothing of it', async () => {
    const alpha = await stack.client.createTenant({ name: 'retention-alpha' });
    const beta = await stack.client.createTenant({ name: 'retention-beta' });
    const asAlpha = new TmClient(stack.url, { token: alpha.token });
    const asBeta = new TmClient(stack.url, { token: beta.token });
    const job = await asAlpha.submitJob({ kind: 'echo', payload: 1, retentionSeconds: 1 }, 60);
    expect(job.state).toBe('succeeded');
    await removed(asAlpha, job.id);
    const other = await failure(asBeta.getJob(job.id));
    expect([other.status, other.code]).toEqual([404, 'not_found']);
    expect(other.message).not.toContain('retention');
    expect((await failure(stack.client.getJob(job.id))).code).toBe('job_removed');
  });

  it(`keeps at most ${MAX_FINISHED} finished jobs, removing the oldest first`, async () => {
    // The excess (these 6 and what earlier tests left) is more than one sweep's BATCH_ROWS jobs:
    // the sweeps go on until it is gone, with no job ending meanwhile.
    await settled();
    const ids: string[] = [];
    for (let i = 0; i < MAX_FINISHED + 2; i++) {
      const job = await stack.client.submitJob({ kind: 'echo', payload: i }, 60);
      expect(job.state).toBe('succeeded');
      ids.push(job.id);
    }
    const first = await removed(stack.client, ids[0]!);
    expect(first.details).toMatchObject({ reason: 'cap' });
    await removed(stack.client, ids[1]!);
    const report = await settled();
    expect(report.finishedJobs).toBe(MAX_FINISHED);
    for (const id of ids.slice(2)) expect((await stack.client.getJob(id)).id).toBe(id);
    expect(report.oldestFinishedJob?.id).toBe(ids[2]);
  });

  it('the storage report is for the admin alone', async () => {
    const tenant = await stack.client.createTenant({ name: 'retention-gamma' });
    const asTenant = new TmClient(stack.url, { token: tenant.token });
    const error = await failure(asTenant.storage());
    expect([error.status, error.code]).toEqual([403, 'forbidden']);
    const report = await storage();
    expect(report.databaseSizeBytes).toBeGreaterThan(0);
    expect(report.retention).toEqual({
      retentionSeconds: 3600,
      maxFinishedJobs: MAX_FINISHED,
      batchRows: BATCH_ROWS,
    });
  });

  it("tm status prints the storage report; a tenant's token sees no storage, a stray argument is refused", async () => {
    const tm = (token: string, args: string[]) =>
      runTmProcess({ url: stack.url, token, configHome: home }, args);
    const text = await tm(stack.adminToken, ['status']);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^storage\n/m);
    expect(text.stdout).toMatch(/database +\d+(\.\d)? (B|KiB|MiB)/);
    expect(text.stdout).toMatch(/retention +1 h/);
    expect(text.stdout).toMatch(/^task_attempts +\d+$/m);
    const json = await tm(stack.adminToken, ['status', '--json']);
    expect(json.code).toBe(0);
    const { storage: report } = JSON.parse(json.stdout) as { storage: unknown };
    expect(StorageReport.parse(report).retention.maxFinishedJobs).toBe(MAX_FINISHED);

    const tenant = await stack.client.createTenant({ name: 'retention-delta' });
    const theirs = await tm(tenant.token, ['status']);
    expect(theirs.code).toBe(0);
    expect(theirs.stdout).not.toMatch(/^storage\n/m);
    expect(theirs.stdout).toContain("(workers, queue and storage need the admin's token)");
    expect((await tm(stack.adminToken, ['status', 'extra'])).code).toBe(2);
  });
});
