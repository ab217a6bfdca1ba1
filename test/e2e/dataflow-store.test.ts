/**
 * End to end: dataflow stages that use the object store, on wrangler dev with real agents and a
 * loopback S3. An aggregate stage runs its own aggregate job once its upstream has ended, and a
 * command stage after it reads the Arrow result from its input folder; a failed aggregation fails
 * the stage, a cancelled dataflow cancels the aggregation it started. A command stage's declared
 * output files are uploaded to the job's folder and reach the stages after it; a symlink in place
 * of one is refused. Bad stages are refused at submit.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tableFromIPC } from 'apache-arrow';
import type { CreatedTenantToken, JobView, StoreGrant } from '../../protocol/index.ts';
import { createObjectStore } from '../../worker-agent/storage/object-store.ts';
import { startTestStack, type TestStack } from '../support/stack.ts';
import { eventually } from '../support/wait.ts';
import { callApi } from '../support/http.ts';
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
const post = (body: unknown, token = stack.adminToken) =>
  callApi<JobView & { error: { message: string } }>(stack.url, token, 'POST', '/v1/jobs', body);

/** A new tenant's token: every job kind, and these store grants. */
async function tenantToken(name: string, stores: StoreGrant[]): Promise<string> {
  const created = await callApi<CreatedTenantToken>(
    stack.url,
    stack.adminToken,
    'POST',
    '/v1/tenants',
    {
      name,
      permissions: { ...GRANT_ALL, stores },
    },
  );
  return created.body.token;
}

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
      const reply = await post({
        kind: 'dataflow',
        stages: [{ name: 'prep', kind: 'command', command: 'true' }, stage],
      });
      expect(reply.status, JSON.stringify(stage)).toBe(status);
      expect(reply.body.error.message, JSON.stringify(stage)).toMatch(message);
    }
  });

  it('refuses a tenant an aggregate stage over a store it may not read', async () => {
    const token = await tenantToken('no-stores', []);
    const reply = await post({ kind: 'dataflow', stages: [totals()] }, token);
    expect(reply.status).toBe(403);
    expect(reply.body.error.message).toMatch(/test-bucket/);
  });
});

const OUT = { store: 'test-bucket', prefix: 'runs/' };

describe('dataflow stage outputs', () => {
  it("uploads a stage's declared files to the job's folder and hands them to the next stage", async () => {
    const { status, body: job } = await post({
      kind: 'dataflow',
      name: 'files',
      outputs: OUT,
      stages: [
        {
          name: 'make',
          kind: 'command',
          parallelism: 2,
          outputs: ['part.txt', 'n.json'],
          // An argv command names the folder with {{outputs}}; a shell line uses $TM_OUTPUTS.
          command: [
            'sh',
            '-c',
            'printf "part %s" "$TM_INSTANCE" > "$1/part.txt"; echo "{\\"n\\": $TM_INSTANCE}" > "$TM_OUTPUTS/n.json"',
            'sh',
            '{{outputs}}',
          ],
        },
        {
          name: 'use',
          kind: 'command',
          dependsOn: ['make'],
          command: 'cd "$TM_INPUTS/make/outputs" && cat 0/part.txt 1/part.txt && cat 1/n.json',
        },
      ],
    });
    expect(status, JSON.stringify(job)).toBe(202);
    const done = await stack.client.waitJob(job.id, 60_000);
    expect(done.state, JSON.stringify(done.stages)).toBe('succeeded');
    const use = done.tasks!.find((t) => t.stage?.name === 'use');
    expect(use?.result).toBe('part 0part 1{"n": 1}');
    // In the store: <prefix>/<job id>/<stage>/<instance>/<attempt>/<name>.
    const store = createObjectStore(stack.s3!.access);
    const bytes = await store.get(`runs/${job.id}/make/1/1/part.txt`);
    store.close();
    expect(new TextDecoder().decode(bytes)).toBe('part 1');
  });

  it('fails an attempt whose declared output is missing, or a symlink, and uploads nothing of it', async () => {
    const { body: job } = await post({
      kind: 'dataflow',
      name: 'linked',
      outputs: OUT,
      retries: 0,
      stages: [
        {
          name: 'link',
          kind: 'command',
          outputs: ['stolen.txt'],
          command: `ln -s /etc/hostname "$TM_OUTPUTS/stolen.txt"`,
          continueOnFailure: true,
        },
        {
          name: 'missing',
          kind: 'command',
          outputs: ['never.txt'],
          command: 'true',
          dependsOn: ['link'],
        },
      ],
    });
    const done = await stack.client.waitJob(job.id, 60_000);
    expect(done.state).toBe('failed');
    const errors = Object.fromEntries(done.tasks!.map((t) => [t.stage?.name, t.error]));
    expect(errors.link).toMatch(/output "stolen.txt" is not a regular file/);
    expect(errors.missing).toMatch(
      /declares output "never.txt" but wrote no \$TM_OUTPUTS\/never.txt/,
    );
    const store = createObjectStore(stack.s3!.access);
    const keys: string[] = [];
    for await (const object of store.list(`runs/${job.id}/`)) keys.push(object.key);
    store.close();
    expect(keys).toEqual([]);
  });

  it('refuses outputs without a location, a reserved name, {{outputs}} without outputs, and a tenant without the write grant', async () => {
    const make = (extra: Record<string, unknown>) => ({
      name: 'make',
      kind: 'command',
      command: ['touch', '{{outputs}}/a'],
      outputs: ['a'],
      ...extra,
    });
    const cases: [unknown, RegExp][] = [
      [
        { kind: 'dataflow', stages: [make({})] },
        /declares outputs: give the job an "outputs" location/,
      ],
      [
        { kind: 'dataflow', outputs: OUT, stages: [make({ outputs: ['../a'] })] },
        /a file name of 1 to 128/,
      ],
      [
        { kind: 'dataflow', outputs: OUT, stages: [make({ outputs: undefined })] },
        /\{\{outputs\}\} is the outputs folder of a stage that declares outputs/,
      ],
      [
        { kind: 'dataflow', outputs: OUT, stages: [make({ name: 'outputs' })] },
        /the stage name "outputs" is reserved/,
      ],
      [
        { kind: 'dataflow', outputs: { store: 'missing', prefix: '' }, stages: [make({})] },
        /unknown object store "missing" in outputs.store/,
      ],
    ];
    for (const [body, message] of cases) {
      const reply = await post(body);
      expect(reply.status, JSON.stringify(body)).toBe(400);
      expect(reply.body.error.message, JSON.stringify(body)).toMatch(message);
    }
    const token = await tenantToken('reader', [
      { store: 'test-bucket', read: [''], write: ['mine/'] },
    ]);
    const refused = await post({ kind: 'dataflow', outputs: OUT, stages: [make({})] }, token);
    expect(refused.status).toBe(403);
    const allowed = await post(
      { kind: 'dataflow', outputs: { store: 'test-bucket', prefix: 'mine' }, stages: [make({})] },
      token,
    );
    expect(allowed.status, JSON.stringify(allowed.body)).toBe(202);
    expect((await stack.client.waitJob(allowed.body.id, 60_000)).state).toBe('succeeded');
  });
});
