/**
 * End to end: a dataflow job's aggregate stage on wrangler dev with real agents and a loopback
 * S3. The stage runs its own aggregate job once its upstream has ended, and a command stage after
 * it reads the Arrow result from its input folder. A failed aggregation fails the stage, a
 * cancelled dataflow cancels the aggregation it started, and bad stages are refused at submit.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tableFromIPC } from 'apache-arrow';
import type { CreatedTenantToken, JobView } from '../../protocol/index.ts';
import { createObjectStore } from '../../worker-agent/storage/object-store.ts';
import { startTestStack, type TestStack } from '../support/stack.ts';
import { eventually } from '../support/wait.ts';
import { GRANT_ALL } from '../support/tenants.ts';

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack({ agents: 2, slots: 2, s3: true });
  const store = createObjectStore(stack.s3!.access);
  const rows = ['region,qty', 'north,1', 'south,2', 'north,3', 'east,4', 'south,5'];
  await store.put('flow/sales.csv', new TextEncoder().encode(rows.join('\n') + '\n'));
  await store.put('flow/more.csv', new TextEncoder().encode('region,qty\nnorth,10\n'));
  store.close();
}, 180_000);
afterAll(async () => stack?.stop());

const totals = (extra: Record<string, unknown> = {}) => ({
  name: 'totals',
  kind: 'aggregate',
  source: { store: 'test-bucket', prefix: 'flow/', format: 'csv' },
  groupBy: ['region'],
  aggregates: [{ op: 'sum', column: 'qty', as: 'total' }],
  orderBy: [{ column: 'region' }],
  ...extra,
});

/** The aggregate job the dataflow's stage "totals" launched, as its stage view names it. */
const childOf = async (parent: JobView): Promise<JobView> => {
  const view = await stack.client.getJob(parent.id);
  const id = view.stages?.find((s) => s.name === 'totals')?.job;
  if (!id) throw new Error(`no aggregate job for ${parent.name} yet`);
  const child = await stack.client.getJob(id);
  expect(child.name).toBe(`${parent.name}/totals`);
  return child;
};

describe('dataflow aggregate stages', () => {
  it('runs an aggregate after its upstream; the next stage reads its Arrow result as a file', async () => {
    const job = await stack.client.submitJob({
      kind: 'dataflow',
      name: 'sales',
      stages: [
        { name: 'prep', kind: 'command', command: 'echo ready' },
        totals({ dependsOn: ['prep'] }),
        {
          name: 'report',
          kind: 'command',
          dependsOn: ['totals'],
          // The Arrow file, whole, as the result; the variable holds the job and its rows.
          command: 'base64 -w0 "$TM_INPUTS/totals/result.arrow"; echo; echo "$TM_INPUT_totals"',
        },
      ],
    } as never);
    const done = await stack.client.waitJob(job.id, 90_000);
    expect(done.state, JSON.stringify(done.stages)).toBe('succeeded');
    const stage = done.stages!.find((s) => s.name === 'totals')!;
    expect(stage.state).toBe('succeeded');
    // The aggregation started only after its upstream had ended.
    const prep = done.stages!.find((s) => s.name === 'prep')!;
    expect(Date.parse(stage.startedAt!)).toBeGreaterThanOrEqual(Date.parse(prep.finishedAt!));
    const child = await childOf(done);
    expect(child).toMatchObject({ kind: 'aggregate', state: 'succeeded' });
    const report = done.tasks!.find((t) => t.stage?.name === 'report');
    const [arrow, summary] = String(report?.result).split('\n');
    expect(JSON.parse(summary!)).toMatchObject({ job: child.id, rows: 3 });
    const table = tableFromIPC(Buffer.from(arrow!, 'base64'));
    const rows = table.toArray().map((row) => [String(row.region), Number(row.total)]);
    expect(rows).toEqual([
      ['east', 4],
      ['north', 14],
      ['south', 7],
    ]);
    // The same table the API serves for the aggregate job.
    const served = await stack.client.result(child.id);
    expect(served.rows.map((r: Record<string, unknown>) => [r.region, Number(r.total)])).toEqual(
      rows,
    );
  });

  it('fails the stage, and the job, when its aggregation fails', async () => {
    const job = await stack.client.submitJob({
      kind: 'dataflow',
      name: 'nothing',
      stages: [
        totals({ source: { store: 'test-bucket', prefix: 'nowhere/', format: 'csv' } }),
        { name: 'after', kind: 'command', command: 'echo never', dependsOn: ['totals'] },
      ],
    } as never);
    const done = await stack.client.waitJob(job.id, 60_000);
    expect(done.state).toBe('failed');
    expect(done.error).toMatch(/stage "totals" failed: job \S+ failed: no input objects under/);
    expect(done.stages!.find((s) => s.name === 'after')!.state).toBe('cancelled');
  });

  it('cancels the aggregation it started when the dataflow is cancelled', async () => {
    // Every slot is busy with "block", so the aggregation's maps wait in the queue.
    const job = await stack.client.submitJob({
      kind: 'dataflow',
      name: 'stopped',
      stages: [{ name: 'block', kind: 'command', command: 'sleep 30', parallelism: 4 }, totals()],
    } as never);
    const child = await eventually(
      () => childOf(job).catch(() => undefined),
      'the aggregate job to be launched',
    );
    expect(child.state).not.toBe('succeeded');
    await stack.client.cancelJob(job.id);
    const cancelled = await stack.client.waitJob(job.id, 30_000);
    expect(cancelled.state).toBe('cancelled');
    const ended = await stack.client.waitJob(child.id, 30_000);
    expect(ended.state).toBe('cancelled');
  });

  it('finishes the stage across a control-plane restart while its aggregation waits', async () => {
    const job = await stack.client.submitJob({
      kind: 'dataflow',
      name: 'restarted',
      stages: [
        { name: 'block', kind: 'command', command: 'sleep 4', parallelism: 4 },
        totals(),
        {
          name: 'after',
          kind: 'command',
          command: 'echo "$TM_INPUT_totals"',
          dependsOn: ['totals'],
        },
      ],
    } as never);
    const child = await eventually(
      () => childOf(job).catch(() => undefined),
      'the aggregate job to be launched',
    );
    await stack.restartControlPlane();
    const done = await stack.client.waitJob(job.id, 90_000);
    expect(done.state, JSON.stringify(done.stages)).toBe('succeeded');
    const after = done.tasks!.find((t) => t.stage?.name === 'after');
    expect(JSON.parse(String(after?.result))).toMatchObject({ job: child.id, rows: 3 });
    expect(
      (await stack.client.listJobs()).filter((j) => j.name === 'restarted/totals'),
    ).toHaveLength(1);
  });

  it('refuses bad aggregate stages at submit', async () => {
    const cases: [Record<string, unknown>, number, RegExp][] = [
      [totals({ parallelism: 2 }), 400, /"totals" is an aggregate: it runs one aggregate job/],
      [
        totals({ source: { store: 'missing', format: 'csv' } }),
        400,
        /stage "totals": unknown object store "missing" in source.store/,
      ],
      [totals({ aggregates: [] }), 400, /aggregates/],
      [
        totals({ streamFrom: ['prep'] }),
        400,
        /stream edge into a batch-only stage: "totals" is aggregate/,
      ],
    ];
    for (const [stage, status, message] of cases) {
      const response = await fetch(`${stack.url}/v1/jobs`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${stack.adminToken}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify({
          kind: 'dataflow',
          stages: [{ name: 'prep', kind: 'command', command: 'true' }, stage],
        }),
      });
      const body = (await response.json()) as { error: { message: string } };
      expect(response.status, JSON.stringify(stage)).toBe(status);
      expect(body.error.message, JSON.stringify(stage)).toMatch(message);
    }
  });

  it('refuses a tenant an aggregate stage over a store it may not read', async () => {
    const created = await fetch(`${stack.url}/v1/tenants`, {
      method: 'POST',
      headers: { authorization: `Bearer ${stack.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'no-stores', permissions: { ...GRANT_ALL, stores: [] } }),
    });
    const { token } = (await created.json()) as CreatedTenantToken;
    const response = await fetch(`${stack.url}/v1/jobs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'dataflow', stages: [totals()] }),
    });
    expect(response.status).toBe(403);
    const body = (await response.json()) as { error: { message: string } };
    expect(body.error.message).toMatch(/test-bucket/);
  });
});
