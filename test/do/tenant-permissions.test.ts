/**
 * Tenant permissions and queue quotas through the real Worker and Scheduler: set at create and by
 * PATCH, shown in GET, enforced at submit with 403 (or 429) before anything is stored.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  DEFAULT_TENANT_PERMISSIONS,
  type CreatedTenantToken,
  type ErrorBody,
  type JobView,
  type TenantView,
} from '../../protocol/index.ts';
import { api, cleanUp, conforms, query } from './helpers.ts';

afterEach(cleanUp);

const unique = (prefix: string) => `${prefix}-${crypto.randomUUID().slice(0, 8)}`;

async function newTenant(over: Record<string, unknown> = {}): Promise<CreatedTenantToken> {
  const reply = await api<CreatedTenantToken>('POST', '/v1/tenants', {
    name: unique('t'),
    ...over,
  });
  if (reply.status !== 201) throw new Error(`create tenant: ${JSON.stringify(reply.body)}`);
  return reply.body;
}

const patch = (tenant: CreatedTenantToken, body: unknown) =>
  api<TenantView>('PATCH', `/v1/tenants/${tenant.tenant.id}`, body);

/** A store whose endpoint nothing listens on: a job allowed past the checks fails at listing. */
async function newStore(): Promise<string> {
  const name = unique('store');
  const reply = await api('POST', '/v1/object-stores', {
    name,
    url: `s3://bucket-${name}/data`,
    endpoint: 'http://127.0.0.1:1',
  });
  expect(reply.status).toBe(201);
  return name;
}

async function jobCount(tenant: CreatedTenantToken): Promise<number> {
  const rows = await query<{ n: number }>(
    `SELECT count(*) AS n FROM jobs WHERE tenant_id = ?`,
    tenant.tenant.id,
  );
  return rows[0]?.n ?? 0;
}

/** Expects a 403 whose details name `permission`, and returns its message. */
function forbidden(reply: { status: number; body: unknown }, permission: string): string {
  const body = reply.body as ErrorBody;
  expect({ status: reply.status, code: body.error?.code }).toEqual({
    status: 403,
    code: 'forbidden',
  });
  expect(body.error.details).toMatchObject({ permission });
  return body.error.message;
}

const aggregate = (source: Record<string, unknown>, output?: Record<string, unknown>) => ({
  kind: 'aggregate',
  source: { format: 'csv', ...source },
  aggregates: [{ op: 'count' }],
  ...(output ? { output } : {}),
});

describe('tenant permissions: the API', () => {
  it('starts from safe defaults, shows them in GET, and takes grants at create and by PATCH', async () => {
    const plain = await newTenant();
    expect(plain.tenant).toMatchObject({
      permissions: DEFAULT_TENANT_PERMISSIONS,
      maxQueuedTasks: null,
    });
    const path = `/v1/tenants/${plain.tenant.id}`;
    conforms('get', '/v1/tenants/{id}', await api('GET', path));

    const granted = await newTenant({
      permissions: { jobKinds: ['command'], executors: ['wget'] },
      maxQueuedTasks: 5,
    });
    expect(granted.tenant.permissions).toEqual({
      ...DEFAULT_TENANT_PERMISSIONS,
      jobKinds: ['command'],
      executors: ['wget'],
    });
    const stores = [{ store: 'data', read: ['acme/'], write: [] }];
    const updated = await patch(granted, { permissions: { stores }, maxQueuedTasks: null });
    conforms('patch', '/v1/tenants/{id}', updated);
    // Fields not given stay as they were.
    expect(updated.body).toMatchObject({
      permissions: { jobKinds: ['command'], executors: ['wget'], stores },
      maxQueuedTasks: null,
    });
    const read = await api<TenantView>('GET', `/v1/tenants/${granted.tenant.name}`);
    expect(read.body.permissions).toEqual(updated.body.permissions);
  });

  it('refuses permissions the schema does not know, with 400', async () => {
    const plain = await newTenant();
    for (const body of [
      { permissions: { jobKinds: ['shell'] } },
      { permissions: { stores: [{ store: 'data', read: ['../'], write: [] }] } },
      { permissions: { admin: true } },
      { maxQueuedTasks: 0 },
      {},
    ])
      expect((await patch(plain, body)).status, JSON.stringify(body)).toBe(400);
  });

  it('makes a tenant and its token in one transaction: a refused create leaves neither', async () => {
    const first = await newTenant();
    const count = async () =>
      (await query<{ n: number }>(`SELECT count(*) AS n FROM tenant_tokens`))[0]?.n;
    const before = await count();
    const again = await api('POST', '/v1/tenants', { name: first.tenant.name });
    expect(again.status).toBe(409);
    expect(await count()).toBe(before);
  });
});

describe('tenant permissions: at submit', () => {
  it('refuse command jobs by default, and allow them once granted; the admin is never checked', async () => {
    const tenant = await newTenant();
    const command = { kind: 'command', command: 'cat ../.tm/admin-token', workers: 'all' };
    const message = forbidden(await api('POST', '/v1/jobs', command, tenant.token), 'job_kind');
    expect(message).toContain('may not submit command jobs');
    expect(await jobCount(tenant)).toBe(0);
    expect((await api('POST', '/v1/jobs', { kind: 'echo' }, tenant.token)).status).toBe(202);

    await patch(tenant, { permissions: { jobKinds: ['command', 'echo'] } });
    // No agent is connected, so one task rather than "all", which would be a 409.
    const one = { ...command, workers: 1 };
    expect((await api('POST', '/v1/jobs', one, tenant.token)).status).toBe(202);
    await patch(tenant, { permissions: { jobKinds: ['echo'] } });
    forbidden(await api('POST', '/v1/jobs', aggregate({ store: 'x' }), tenant.token), 'job_kind');
    expect((await api('POST', '/v1/jobs', one)).status).toBe(202);
  });

  it("refuse an aggregation's ungranted source, other folders, and output outside its write folders", async () => {
    const store = await newStore();
    const tenant = await newTenant({
      permissions: { stores: [{ store, read: ['acme/'], write: ['acme/out/'] }] },
    });
    const submit = (body: unknown) => api<JobView>('POST', '/v1/jobs', body, tenant.token);
    const refused: [unknown, string][] = [
      [aggregate({ store }), 'store_read'],
      [aggregate({ store, prefix: 'bob/' }), 'store_read'],
      [aggregate({ store, prefix: 'acme' }), 'store_read'],
      [aggregate({ store, paths: ['acme/a.csv', 'bob/b.csv'] }), 'store_read'],
      [aggregate({ store, paths: ['acme/../bob/b.csv'] }), 'store_read'],
      [aggregate({ store: 'unregistered', prefix: 'acme/' }), 'store_read'],
      [aggregate({ store, prefix: 'acme/' }, { store, prefix: 'bob/in' }), 'store_write'],
      [aggregate({ store, prefix: 'acme/' }, { store, prefix: 'acme' }), 'store_write'],
    ];
    for (const [body, permission] of refused) forbidden(await submit(body), permission);
    expect(await jobCount(tenant)).toBe(0);

    // Allowed past the checks: the jobs exist, and fail on the unreachable store.
    for (const body of [
      aggregate({ store, prefix: 'acme/2026/' }),
      aggregate({ store, paths: ['/acme/a.csv'] }),
      aggregate({ store, prefix: 'acme/' }, { store, prefix: '/acme/out/run-1/' }),
    ])
      expect((await submit(body)).status, JSON.stringify(body)).toBe(202);
  });

  it('refuse pipelines with ungranted executors or free-form programs, and ungranted `from` reads', async () => {
    const store = await newStore();
    const tenant = await newTenant({ permissions: { executors: ['wget'] } });
    const define = (body: unknown) =>
      api('POST', '/api/applications/app/pipelines', body, tenant.token);
    const step = (executor: string, command: string) => ({
      name: 'p',
      pipeline: [{ executor, commands: [command] }],
    });
    forbidden(await define(step('curl', 'curl {{url}}')), 'executor');
    const freeForm = forbidden(await define(step('wget', 'sh -c {{url}}')), 'free_form_program');
    expect(freeForm).toContain("runs sh, not the step's executor wget");
    forbidden(await define({ name: 'p', from: { store, key: 'acme/p.json' } }), 'store_read');
    expect((await define(step('wget', 'wget {{url}}'))).status).toBe(201);

    // A grant taken back holds from the next submit on.
    const submit = () =>
      api('POST', '/api/applications/app/pipelines/p', { url: 'u' }, tenant.token);
    expect((await submit()).status).toBe(202);
    await patch(tenant, { permissions: { executors: [] } });
    forbidden(await submit(), 'executor');
    await patch(tenant, { permissions: { executors: ['*'], jobKinds: ['echo'] } });
    forbidden(await submit(), 'job_kind');
  });
});

describe('tenant queue quota', () => {
  it('refuses a tenant past its quota with 429 naming it, while another tenant still submits', async () => {
    const full = await newTenant({ maxQueuedTasks: 3 });
    const other = await newTenant();
    const echo = (count: number) => ({ kind: 'echo', count });
    // No agent is connected: every task stays queued.
    expect((await api('POST', '/v1/jobs', echo(3), full.token)).status).toBe(202);
    const refused = await api<ErrorBody>('POST', '/v1/jobs', echo(1), full.token);
    expect(refused.status).toBe(429);
    expect(refused.body.error.message).toContain(`tenant ${full.tenant.name} has 3 queued tasks`);
    expect(refused.body.error.details).toMatchObject({ quota: 'tenant', limit: 3, adding: 1 });
    expect((await api('POST', '/v1/jobs', echo(10), other.token)).status).toBe(202);
    expect((await api('POST', '/v1/jobs', echo(10))).status).toBe(202);

    // Without a quota of its own, a tenant may fill a quarter of the cluster's bound (2000 here).
    expect((await api('POST', '/v1/jobs', echo(501), other.token)).status).toBe(429);
    await patch(full, { maxQueuedTasks: 4 });
    expect((await api('POST', '/v1/jobs', echo(1), full.token)).status).toBe(202);
  });
});
