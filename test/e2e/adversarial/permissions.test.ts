/**
 * Adversarial, on the real stack (wrangler dev, a real agent, the loopback S3 server): what a
 * tenant token could do before tenant permissions, each now refused at submit with a 403 that
 * names the permission, and the per-tenant queue quota that leaves room for other tenants.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TmClient } from '../../../cli/sdk/client.ts';
import { TmApiError } from '../../../cli/sdk/errors.ts';
import type { CreatedTenantToken, SubmitJobRequest } from '../../../protocol/index.ts';
import { createObjectStore } from '../../../worker-agent/storage/object-store.ts';
import { startTestStack, type TestStack } from '../../support/stack.ts';
import { grantTenant } from '../../support/tenants.ts';

const STORE = 'test-bucket';

let stack: TestStack;
let attacker: CreatedTenantToken;
let victim: CreatedTenantToken;

const clientOf = (tenant: CreatedTenantToken) => new TmClient(stack.url, { token: tenant.token });

/** A raw call with a tenant's token: the status and error body as any HTTP client sees them. */
async function call(tenant: CreatedTenantToken, method: string, path: string, body?: unknown) {
  const response = await fetch(stack.url + path, {
    method,
    headers: { authorization: `Bearer ${tenant.token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  const parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  const error = (parsed.error ?? null) as {
    code: string;
    message: string;
    details?: Record<string, unknown>;
  } | null;
  return { status: response.status, body: parsed, error };
}

/** Expects the refusal of a permission: 403, code `forbidden`, the permission named. */
function expectForbidden(reply: Awaited<ReturnType<typeof call>>, permission: string): string {
  expect({ status: reply.status, code: reply.error?.code }).toEqual({
    status: 403,
    code: 'forbidden',
  });
  expect(reply.error?.details?.permission).toBe(permission);
  return reply.error?.message ?? '';
}

const countByRegion = (prefix: string, output?: { store: string; prefix: string }) =>
  ({
    kind: 'aggregate',
    source: { store: STORE, prefix, format: 'csv' },
    groupBy: ['region'],
    aggregates: [{ op: 'count' }],
    ...(output ? { output } : {}),
  }) satisfies SubmitJobRequest;

async function keysUnder(prefix: string): Promise<string[]> {
  const store = createObjectStore(stack.s3!.access);
  try {
    const keys: string[] = [];
    for await (const object of store.list(prefix)) keys.push(object.key);
    return keys.sort();
  } finally {
    store.close();
  }
}

beforeAll(async () => {
  stack = await startTestStack({ agents: 1, slots: 2, s3: true });
  const store = createObjectStore(stack.s3!.access);
  const csv = (rows: string[]) =>
    new TextEncoder().encode(['region,amount', ...rows, ''].join('\n'));
  await store.put('victim/in/a.csv', csv(['eu,1', 'us,2', 'eu,3']), 'text/csv');
  await store.put('attacker/in/a.csv', csv(['eu,1']), 'text/csv');
  await store.put(
    'victim/pipeline.json',
    new TextEncoder().encode(
      JSON.stringify({ pipeline: [{ executor: 'echo', commands: ['echo x'] }] }),
    ),
    'application/json',
  );
  store.close();
  attacker = await stack.client.createTenant({
    name: 'attacker',
    permissions: {
      executors: ['*'],
      stores: [{ store: STORE, read: ['attacker/'], write: ['attacker/'] }],
    },
  });
  victim = await stack.client.createTenant({
    name: 'victim',
    permissions: { stores: [{ store: STORE, read: ['victim/'], write: ['victim/out/'] }] },
  });
}, 180_000);

afterAll(async () => stack?.stop());

describe('a tenant token', () => {
  it('may not run a command job by default; once the admin grants commands it may', async () => {
    const attack = {
      kind: 'command',
      command: 'cat ../.tm/admin-token',
      workers: 'all',
    } as const;
    const message = expectForbidden(await call(attacker, 'POST', '/v1/jobs', attack), 'job_kind');
    expect(message).toContain('may not submit command jobs');
    expect(await clientOf(attacker).listJobs()).toEqual([]);

    const granted = await grantTenant(stack.client, 'attacker', {
      jobKinds: ['command', 'pipeline', 'aggregate', 'echo'],
    });
    expect(granted.permissions.jobKinds).toContain('command');
    const job = await clientOf(attacker).submitJob(
      { kind: 'command', command: 'echo granted', workers: 1 },
      60,
    );
    expect(job.state).toBe('succeeded');
    await grantTenant(stack.client, 'attacker', { jobKinds: ['pipeline', 'aggregate', 'echo'] });
    expectForbidden(await call(attacker, 'POST', '/v1/jobs', attack), 'job_kind');
  });

  it('may not define a pipeline whose steps run free-form programs', async () => {
    const app = '/api/applications/tools/pipelines';
    const reply = await call(attacker, 'POST', app, {
      name: 'escape',
      pipeline: [{ executor: 'echo', commands: ['sh -c {{script}}'] }],
    });
    expect(expectForbidden(reply, 'free_form_program')).toContain('runs sh');
    // Nothing was stored: the application does not exist.
    expect((await call(attacker, 'GET', '/api/applications/tools')).status).toBe(404);
    const ownExecutor = await call(attacker, 'POST', app, {
      name: 'echo',
      pipeline: [{ executor: 'echo', commands: ['echo {{word}}'] }],
    });
    expect(ownExecutor.status).toBe(201);
  });

  it("may not write an aggregation's output into another tenant's folder; the victim's next job still succeeds", async () => {
    const before = await keysUnder('victim/');
    const attack = countByRegion('attacker/in/', { store: STORE, prefix: 'victim/in' });
    const message = expectForbidden(
      await call(attacker, 'POST', '/v1/jobs', attack),
      'store_write',
    );
    expect(message).toContain('may not write victim/in/ of store test-bucket');
    // Not even by climbing out of its own folder.
    const climb = countByRegion('attacker/in/', { store: STORE, prefix: 'attacker/../victim/in' });
    expectForbidden(await call(attacker, 'POST', '/v1/jobs', climb), 'store_write');
    expect(await keysUnder('victim/')).toEqual(before);

    const job = await clientOf(victim).submitJob(countByRegion('victim/in/'), 120);
    expect(job.state).toBe('succeeded');
    const result = await clientOf(victim).resultAll(job.id);
    expect(result.rows).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ region: 'eu', 'count(*)': 2 }),
        expect.objectContaining({ region: 'us', 'count(*)': 1 }),
      ]),
    );
    // Its own folder it may write.
    const own = countByRegion('attacker/in/', { store: STORE, prefix: 'attacker/out' });
    expect((await clientOf(attacker).submitJob(own, 120)).state).toBe('succeeded');
  });

  it('may not read a store or folder it was not granted, by aggregation or pipeline source', async () => {
    expectForbidden(
      await call(attacker, 'POST', '/v1/jobs', countByRegion('victim/in/')),
      'store_read',
    );
    const paths = {
      ...countByRegion(''),
      source: { store: STORE, format: 'csv', paths: ['victim/in/a.csv'] },
    };
    expectForbidden(await call(attacker, 'POST', '/v1/jobs', paths), 'store_read');
    expectForbidden(await call(attacker, 'POST', '/v1/jobs', countByRegion('')), 'store_read');
    const from = { name: 'stolen', from: { store: STORE, key: 'victim/pipeline.json' } };
    expectForbidden(
      await call(attacker, 'POST', '/api/applications/tools/pipelines', from),
      'store_read',
    );
    // The victim reads the same object: it is the grant that differs, not the object.
    const own = await call(victim, 'POST', '/api/applications/mine/pipelines', {
      ...from,
      name: 'mine',
    });
    expectForbidden(own, 'executor');
  });
});

describe('the queue', () => {
  it('refuses a tenant at its own quota with 429 while another tenant still submits', async () => {
    const full = await stack.client.createTenant({
      name: 'flooder',
      permissions: { executors: ['absent-tool'] },
      maxQueuedTasks: 3,
    });
    const app = '/api/applications/flood/pipelines';
    const define = await call(full, 'POST', app, {
      name: 'wait',
      pipeline: [{ executor: 'absent-tool', commands: ['absent-tool {{n}}'] }],
    });
    expect(define.status).toBe(201);
    // No agent has the executor: the tasks stay queued.
    const batch = [1, 2, 3].map((n) => ({ n }));
    expect((await call(full, 'POST', `${app}/wait`, batch)).status).toBe(202);
    const refused = await call(full, 'POST', `${app}/wait`, { n: 4 });
    expect(refused.status).toBe(429);
    expect(refused.error?.message).toContain('tenant flooder has 3 queued tasks');
    expect(refused.error?.details).toMatchObject({ quota: 'tenant', limit: 3 });
    await expect(clientOf(full).submitJob({ kind: 'echo' })).rejects.toBeInstanceOf(TmApiError);

    const other = await clientOf(victim).submitJob({ kind: 'echo', payload: 'still here' }, 60);
    expect(other.state).toBe('succeeded');
  });
});
