/** API authentication and tenant isolation, through the real Worker and Scheduler in workerd. */
import { afterEach, describe, expect, it } from 'vitest';
import { SELF, env } from 'cloudflare:test';
import type {
  CreatedTenantToken,
  ErrorBody,
  JobView,
  TaskView,
  TenantPermissionsPatch,
  TenantView,
} from '../../protocol/index.ts';
import type { Env } from '../../src/env.ts';
import type { SchedulerEnv } from '../../durable-objects/config.ts';
import { app } from '../../src/app.ts';
import {
  ADMIN_TOKEN,
  api,
  assignmentOf,
  cleanUp,
  complete,
  joinAgent,
  query,
  registerWorker,
  uniqueAddress,
} from './helpers.ts';

afterEach(cleanUp);

const BASE = 'http://scheduler.test';

/** A request from one client address, so lockouts in one test never reach another. */
async function from(client: string, path: string, token: string | null, init: RequestInit = {}) {
  const headers = new Headers(init.headers);
  headers.set('cf-connecting-ip', client);
  if (token !== null) headers.set('authorization', `Bearer ${token}`);
  const response = await SELF.fetch(`${BASE}${path}`, { ...init, headers });
  return { status: response.status, headers: response.headers, body: await response.json() };
}

const uniqueName = (prefix: string) => `${prefix}-${crypto.randomUUID().slice(0, 8)}`;

async function createTenant(
  name = uniqueName('t'),
  weight?: number,
  permissions?: TenantPermissionsPatch,
) {
  const request = { name, weight, permissions };
  const { status, body } = await api<CreatedTenantToken>('POST', '/v1/tenants', request);
  if (status !== 201) throw new Error(`create tenant failed: ${status} ${JSON.stringify(body)}`);
  return body;
}

const echoJob = { kind: 'echo', payload: 'p' } as const;

describe('API tokens', () => {
  it('refuses a request without a token, and one with a wrong token, with 401', async () => {
    const missing = await from('10.0.0.1', '/v1/jobs', null);
    expect(missing.status).toBe(401);
    expect((missing.body as ErrorBody).error.message).toMatch(/Authorization: Bearer/);
    const wrong = await from('10.0.0.1', '/v1/jobs', 'tmt_not-a-real-token');
    expect(wrong.status).toBe(401);
    expect((wrong.body as ErrorBody).error).toMatchObject({ code: 'unauthorized' });
  });

  it('leaves health, the OpenAPI document and the agent socket to their own rules', async () => {
    expect((await from('10.0.0.2', '/v1/health', null)).status).toBe(200);
    expect((await SELF.fetch(`${BASE}/v1/openapi.json`)).status).toBe(200);
    // The agent socket answers for its join token, not an API token.
    const agent = await SELF.fetch(`${BASE}/v1/agent/connect`, {
      headers: { upgrade: 'websocket' },
    });
    expect(agent.status).toBe(401);
    expect(((await agent.json()) as ErrorBody).error.message).toMatch(/join token/);
  });

  it("refuses a client's wrong tokens with 429 after too many, never a valid token, and no one else", async () => {
    const limit = Number((env as unknown as SchedulerEnv).TM_AUTH_FAILURE_LIMIT);
    const tenant = await createTenant();
    for (let i = 1; i < limit; i++) {
      expect((await from('10.0.0.3', '/v1/jobs', `wrong-${i}`)).status).toBe(401);
    }
    // The wrong token that reaches the limit is refused as a lockout already, and so is the next.
    expect((await from('10.0.0.3', '/v1/jobs', `wrong-${limit}`)).status).toBe(429);
    const locked = await from('10.0.0.3', '/v1/jobs', 'wrong-again');
    expect(locked.status).toBe(429);
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0);
    // Valid tokens from the same client still work: only wrong guesses are refused.
    expect((await from('10.0.0.3', '/v1/jobs', ADMIN_TOKEN)).status).toBe(200);
    expect((await from('10.0.0.3', '/v1/jobs', tenant.token)).status).toBe(200);
    expect((await from('10.0.0.3', '/v1/jobs', 'wrong-after')).status).toBe(429);
    // Another client's wrong token is its own first.
    expect((await from('10.0.0.4', '/v1/jobs', 'wrong-elsewhere')).status).toBe(401);
  });

  it('counts wrong tokens in one bucket, whatever CF-Connecting-IP says, when not behind Cloudflare', async () => {
    const local = { ...(env as unknown as Env & SchedulerEnv), TM_BEHIND_CLOUDFLARE: 'false' };
    const limit = Number(local.TM_AUTH_FAILURE_LIMIT);
    const spoofed = (i: number, token: string) =>
      app.request(
        '/v1/jobs',
        { headers: { authorization: `Bearer ${token}`, 'cf-connecting-ip': `192.0.2.${i}` } },
        local,
      );
    const statuses: number[] = [];
    for (let i = 1; i <= limit + 1; i++) statuses.push((await spoofed(i, `guess-${i}`)).status);
    // A fresh address on every guess changes nothing: the limit's guess is already refused.
    expect(statuses.slice(0, limit - 1).every((status) => status === 401)).toBe(true);
    expect(statuses.slice(limit - 1)).toEqual([429, 429]);
    expect((await spoofed(200, ADMIN_TOKEN)).status).toBe(200);
  });

  it('answers 503 with a clear message when no admin token is configured', async () => {
    const bare = { ...(env as unknown as Env), TM_ADMIN_TOKEN: undefined };
    const response = await app.request(
      '/v1/jobs',
      { headers: { authorization: 'Bearer x' } },
      bare,
    );
    expect(response.status).toBe(503);
    expect(((await response.json()) as ErrorBody).error).toMatchObject({
      code: 'auth_not_configured',
      message: expect.stringMatching(/TM_ADMIN_TOKEN/),
    });
  });

  it('tells whom a token speaks for', async () => {
    const tenant = await createTenant();
    expect((await api('GET', '/v1/whoami')).body).toEqual({ kind: 'admin' });
    expect((await api('GET', '/v1/whoami', undefined, tenant.token)).body).toEqual({
      kind: 'tenant',
      tenantId: tenant.tenant.id,
      tenantName: tenant.tenant.name,
    });
  });
});

describe('tenants', () => {
  it('shows a token once, stores only its hash, and lists tokens without them', async () => {
    const created = await createTenant(uniqueName('acme'), 3);
    expect(created.token).toMatch(/^tmt_[A-Za-z0-9_-]{43}$/);
    expect(created.tenant).toMatchObject({ weight: 3, tokens: [{ id: created.tokenId }] });
    const listed = JSON.stringify((await api('GET', '/v1/tenants')).body);
    const one = JSON.stringify((await api('GET', `/v1/tenants/${created.tenant.name}`)).body);
    for (const text of [listed, one]) {
      expect(text).toContain(created.tokenId);
      expect(text).not.toContain(created.token);
    }
    const rows = await query<{ hash: string }>(
      `SELECT hash FROM tenant_tokens WHERE id = '${created.tokenId}'`,
    );
    expect(rows[0]?.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(rows)).not.toContain(created.token);
  });

  it('refuses a second tenant of the same name, bad names and unknown fields', async () => {
    const name = uniqueName('dup');
    await createTenant(name);
    expect((await api('POST', '/v1/tenants', { name })).status).toBe(409);
    expect((await api('POST', '/v1/tenants', { name: 'Has Spaces' })).status).toBe(400);
    const unknown = await api<ErrorBody>('POST', '/v1/tenants', { name: uniqueName('u'), x: 1 });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.message).toMatch(/unknown field.*x/);
    expect((await api('GET', `/v1/tenants/${crypto.randomUUID()}`)).status).toBe(404);
  });

  it('rotates tokens: a new one works beside the old until the old is revoked', async () => {
    const created = await createTenant();
    const rotated = await api<CreatedTenantToken>(
      'POST',
      `/v1/tenants/${created.tenant.id}/tokens`,
    );
    expect(rotated.status).toBe(201);
    expect(rotated.body.token).not.toBe(created.token);
    expect((await api('GET', '/v1/jobs', undefined, created.token)).status).toBe(200);
    const revoked = await api<TenantView>(
      'DELETE',
      `/v1/tenants/${created.tenant.id}/tokens/${created.tokenId}`,
    );
    expect(revoked.body.tokens.map((t) => t.id)).toEqual([rotated.body.tokenId]);
    expect((await api('GET', '/v1/jobs', undefined, created.token)).status).toBe(401);
    expect((await api('GET', '/v1/jobs', undefined, rotated.body.token)).status).toBe(200);
    const again = `/v1/tenants/${created.tenant.id}/tokens/${created.tokenId}`;
    expect((await api('DELETE', again)).status).toBe(404);
  });

  it('sets a weight', async () => {
    const created = await createTenant();
    const path = `/v1/tenants/${created.tenant.id}`;
    expect((await api<TenantView>('PATCH', path, { weight: 7 })).body.weight).toBe(7);
    expect((await api('PATCH', path, { weight: 0 })).status).toBe(400);
  });
});

describe('a tenant', () => {
  it('may not manage the cluster: workers, object stores and tenants answer 403', async () => {
    const { token } = await createTenant();
    const { worker } = await registerWorker();
    const calls: [string, string, unknown?][] = [
      ['GET', '/v1/workers'],
      ['POST', '/v1/workers', { address: 'localhost:1' }],
      ['GET', `/v1/workers/${worker.id}`],
      ['DELETE', `/v1/workers/${worker.id}`],
      ['GET', '/v1/object-stores'],
      ['POST', '/v1/object-stores', { url: 's3://b' }],
      ['GET', '/v1/object-stores/x'],
      ['DELETE', '/v1/object-stores/x'],
      ['GET', '/v1/object-stores/x/objects'],
      ['GET', '/v1/tenants'],
      ['POST', '/v1/tenants', { name: uniqueName('x') }],
      ['POST', `/v1/tenants/${crypto.randomUUID()}/tokens`],
    ];
    for (const [method, path, body] of calls) {
      const reply = await api<ErrorBody>(method, path, body, token);
      expect({ method, path, status: reply.status }).toEqual({ method, path, status: 403 });
      expect(reply.body.error.code).toBe('forbidden');
    }
    expect((await api('GET', `/v1/workers/${worker.id}`)).status).toBe(200);
  });

  it("sees and touches only its own jobs, tasks, logs and results: another's are 404", async () => {
    const a = await createTenant(uniqueName('a'));
    const b = await createTenant(uniqueName('b'));
    const submitted = await api<JobView>('POST', '/v1/jobs', echoJob, a.token);
    expect(submitted.status).toBe(202);
    const job = (await api<JobView>('GET', `/v1/jobs/${submitted.body.id}`, undefined, a.token))
      .body;
    expect(job.tenantId).toBe(a.tenant.id);
    const taskId = (await api<{ tasks: TaskView[] }>('GET', '/v1/tasks', undefined, a.token)).body
      .tasks[0]?.id;
    expect(taskId).toBeDefined();

    const paths: [string, string][] = [
      ['GET', `/v1/jobs/${job.id}`],
      ['POST', `/v1/jobs/${job.id}/cancel`],
      ['GET', `/v1/jobs/${job.id}/logs`],
      ['GET', `/v1/jobs/${job.id}/logs?follow=true`],
      ['GET', `/v1/jobs/${job.id}/result`],
      ['GET', `/v1/jobs/${job.id}/result?format=arrow`],
      ['GET', `/v1/tasks/${taskId}`],
      ['GET', `/v1/tasks/${taskId}/logs`],
      ['GET', `/v1/tasks/${taskId}/logs?follow=true`],
    ];
    for (const [method, path] of paths) {
      const reply = await api<ErrorBody>(method, path, undefined, b.token);
      expect({ path, status: reply.status }).toEqual({ path, status: 404 });
    }
    const listedByB = await api<{ jobs: JobView[] }>('GET', '/v1/jobs', undefined, b.token);
    expect(listedByB.body.jobs.map((j) => j.id)).not.toContain(job.id);
    const tasksOfB = await api<{ tasks: TaskView[] }>('GET', '/v1/tasks', undefined, b.token);
    expect(tasksOfB.body.tasks.map((t) => t.jobId)).not.toContain(job.id);

    // The owner and the admin still see it, and it was not cancelled by the refused call.
    expect((await api<JobView>('GET', `/v1/jobs/${job.id}`, undefined, a.token)).body.state).toBe(
      'queued',
    );
    const listedByAdmin = await api<{ jobs: JobView[] }>('GET', '/v1/jobs');
    expect(listedByAdmin.body.jobs.find((j) => j.id === job.id)?.tenantId).toBe(a.tenant.id);
  });

  it("owns the jobs it submits, and the admin's own jobs belong to no tenant", async () => {
    const a = await createTenant();
    const mine = await api<JobView>('POST', '/v1/jobs', echoJob, a.token);
    const admins = await api<JobView>('POST', '/v1/jobs', echoJob);
    expect(mine.body.tenantId).toBe(a.tenant.id);
    expect(admins.body.tenantId).toBeNull();
    const rows = await query<{ tenant_id: string | null }>(
      `SELECT tenant_id FROM tasks WHERE job_id = '${mine.body.id}'`,
    );
    expect(rows).toEqual([{ tenant_id: a.tenant.id }]);
    const listed = await api<{ jobs: JobView[] }>('GET', '/v1/jobs', undefined, a.token);
    expect(listed.body.jobs.map((j) => j.id)).toEqual([mine.body.id]);
  });
});

describe('fair sharing between tenants', () => {
  it("puts a late tenant's tasks between a flooding tenant's, by weight, as slots free up", async () => {
    const commands = { jobKinds: ['command' as const] };
    const flood = await createTenant(uniqueName('flood'), undefined, commands);
    const late = await createTenant(uniqueName('late'), undefined, commands);
    const { agent } = await joinAgent(uniqueAddress(), { slots: 1 });
    const floodJob = await api<JobView>(
      'POST',
      '/v1/jobs',
      { kind: 'command', command: 'true', workers: 30 },
      flood.token,
    );
    expect(floodJob.status).toBe(202);
    const first = await assignmentOf(agent, floodJob.body.id);
    const lateJob = await api<JobView>(
      'POST',
      '/v1/jobs',
      { kind: 'command', command: 'true', workers: 3 },
      late.token,
    );
    expect(lateJob.status).toBe(202);
    // One slot: each completion frees it, and the Scheduler picks whose task runs next.
    const owners: string[] = [];
    let running = first;
    for (let i = 0; i < 6; i++) {
      complete(agent, running);
      const frame = await agent.nextFrame((f) => f.type === 'assign');
      if (frame.type !== 'assign' || !frame.tasks[0]) throw new Error('no assignment');
      running = frame.tasks[0];
      owners.push(running.jobId === lateJob.body.id ? 'late' : 'flood');
    }
    // Without fair sharing the late tenant would wait behind all 30 flood tasks.
    expect(owners).toEqual(['late', 'flood', 'late', 'flood', 'late', 'flood']);
  });
});
