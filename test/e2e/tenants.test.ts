/**
 * End to end: two tenants share a real stack (wrangler dev, real agents). Each runs its jobs at
 * the same time, sees only its own, and neither can reach the other's over HTTP; wrong tokens are
 * refused and then rate limited; no token or key ever reaches a log.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TmClient } from '../../cli/sdk/client.ts';
import type { CreatedTenantToken, JobView } from '../../protocol/index.ts';
import { startTestStack, type TestStack } from '../support/stack.ts';
import { GRANT_ALL } from '../support/tenants.ts';

const FAILURE_LIMIT = 4;

let stack: TestStack;
let alpha: CreatedTenantToken;
let beta: CreatedTenantToken;

/** A raw call to the API with `token` (null: none), as any HTTP client would make it. */
async function call(method: string, path: string, token: string | null, body?: unknown) {
  const response = await fetch(stack.url + path, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text };
}

/** A tenant granted commands and any executor: this file tests isolation, not permissions. */
async function createTenant(name: string): Promise<CreatedTenantToken> {
  const reply = await call('POST', '/v1/tenants', stack.adminToken, {
    name,
    permissions: GRANT_ALL,
  });
  expect(reply.status).toBe(201);
  return JSON.parse(reply.text) as CreatedTenantToken;
}

beforeAll(async () => {
  stack = await startTestStack({
    agents: 2,
    slots: 2,
    vars: { TM_AUTH_FAILURE_LIMIT: String(FAILURE_LIMIT) },
  });
  alpha = await createTenant('alpha');
  beta = await createTenant('beta');
}, 120_000);

afterAll(async () => stack?.stop());

describe('two tenants on one cluster', () => {
  it('run their jobs at once, each seeing only its own', async () => {
    const clientOf = (tenant: CreatedTenantToken) =>
      new TmClient(stack.url, { token: tenant.token });
    const [a, b] = [clientOf(alpha), clientOf(beta)];
    const submit = (client: TmClient, word: string) =>
      client.submitJob({ kind: 'command', command: `echo ${word}; sleep 0.2`, workers: 4 }, 60);
    const [jobA, jobB] = await Promise.all([submit(a, 'from-alpha'), submit(b, 'from-beta')]);
    for (const [job, tenant] of [
      [jobA, alpha],
      [jobB, beta],
    ] as const) {
      expect(job.state).toBe('succeeded');
      expect(job.tenantId).toBe(tenant.tenant.id);
    }
    // Each tenant's output is its own, and the other's job is as if it did not exist.
    const logA = (await a.logs({ jobId: jobA.id })).entries.map((e) => e.data).join('');
    expect(logA).toContain('from-alpha');
    expect(logA).not.toContain('from-beta');
    expect((await a.listJobs()).map((j: JobView) => j.id)).toEqual([jobA.id]);
    expect((await b.listJobs()).map((j: JobView) => j.id)).toEqual([jobB.id]);
    expect((await stack.client.listJobs()).map((j) => j.id).sort()).toEqual(
      [jobA.id, jobB.id].sort(),
    );
    for (const path of [
      `/v1/jobs/${jobA.id}`,
      `/v1/jobs/${jobA.id}/logs`,
      `/v1/jobs/${jobA.id}/logs?follow=true`,
      `/v1/jobs/${jobA.id}/result`,
      `/v1/tasks/${jobA.tasks?.[0]?.id}`,
      `/v1/tasks/${jobA.tasks?.[0]?.id}/logs`,
    ]) {
      expect({ path, status: (await call('GET', path, beta.token)).status }).toEqual({
        path,
        status: 404,
      });
    }
    expect((await call('POST', `/v1/jobs/${jobA.id}/cancel`, beta.token)).status).toBe(404);
  });

  it("keeps applications, pipelines and their tasks apart: another tenant's are 404", async () => {
    const app = '/api/applications/myname';
    // An executor no agent has: the task waits, which is all this test needs of it.
    const definition = {
      name: 'ocr',
      pipeline: [{ executor: 'absent-tool', commands: ['absent-tool {{url}}'] }],
    };
    expect((await call('POST', `${app}/pipelines`, alpha.token, definition)).status).toBe(201);
    const submitted = await call('POST', `${app}/pipelines/ocr`, alpha.token, { url: 'u' });
    expect(submitted.status).toBe(202);
    const { jobId, taskIds } = JSON.parse(submitted.text) as { jobId: string; taskIds: string[] };
    const task = `${app}/pipelines/ocr/tasks/${taskIds[0]}`;
    expect((await call('GET', task, alpha.token)).status).toBe(200);

    for (const [method, path, body] of [
      ['GET', app],
      ['GET', `${app}/pipelines`],
      ['GET', `${app}/pipelines/ocr`],
      ['POST', `${app}/pipelines/ocr`, { url: 'from-beta' }],
      ['DELETE', `${app}/pipelines/ocr`],
      ['GET', task],
      ['GET', `/v1/jobs/${jobId}`],
      ['GET', `/v1/tasks/${taskIds[0]}`],
    ] as const) {
      const status = (await call(method, path, beta.token, body)).status;
      expect({ method, path, status }).toEqual({ method, path, status: 404 });
    }
    expect(JSON.parse((await call('GET', '/api/applications', beta.token)).text)).toMatchObject({
      applications: [],
    });
    // The admin reads a tenant's applications only by naming it, and never writes them.
    expect((await call('GET', '/api/applications', stack.adminToken)).status).toBe(400);
    expect((await call('POST', `${app}/pipelines`, stack.adminToken, definition)).status).toBe(403);
    // Beta names alpha to read its pipeline: refused, not a way around the 404s above.
    const named = `${app}/pipelines/ocr?tenant=${alpha.tenant.id}`;
    expect((await call('GET', named, beta.token)).status).toBe(403);
    // Beta's "myname" is its own application; alpha's pipeline is untouched by it.
    expect((await call('POST', `${app}/pipelines`, beta.token, definition)).status).toBe(201);
    const alphas = JSON.parse((await call('GET', `${app}/pipelines/ocr`, alpha.token)).text);
    expect(alphas).toMatchObject({ version: 1 });
    await call('POST', `/v1/jobs/${jobId}/cancel`, alpha.token);
  });

  it('keeps the cluster to the admin: tenants get 403 on workers, stores and tenants', async () => {
    for (const [method, path] of [
      ['GET', '/v1/workers'],
      ['GET', '/v1/object-stores'],
      ['GET', '/v1/tenants'],
      ['POST', `/v1/tenants/${alpha.tenant.id}/tokens`],
    ] as const) {
      expect({ path, status: (await call(method, path, alpha.token)).status }).toEqual({
        path,
        status: 403,
      });
    }
  });

  it('refuses wrong tokens, then rate limits them, but never a valid token', async () => {
    expect((await call('GET', '/v1/jobs', null)).status).toBe(401);
    for (let i = 1; i < FAILURE_LIMIT - 1; i++)
      expect((await call('GET', '/v1/jobs', `tmt_guess_${i}`)).status).toBe(401);
    // A revoked token counts as a wrong one.
    const rotated = JSON.parse(
      (await call('POST', `/v1/tenants/${beta.tenant.id}/tokens`, stack.adminToken)).text,
    ) as CreatedTenantToken;
    await call(
      'DELETE',
      `/v1/tenants/${beta.tenant.id}/tokens/${rotated.tokenId}`,
      stack.adminToken,
    );
    expect((await call('GET', '/v1/jobs', rotated.token)).status).toBe(401);
    // The wrong token that reaches the limit is refused as a lockout; valid tokens still work.
    const locked = await call('GET', '/v1/jobs', 'tmt_last_guess');
    expect(locked.status).toBe(429);
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await call('GET', '/v1/jobs', stack.adminToken)).status).toBe(200);
    expect((await call('GET', '/v1/jobs', alpha.token)).status).toBe(200);
    expect((await call('GET', '/v1/jobs', 'tmt_one_more_guess')).status).toBe(429);
    // Health stays open, so monitoring still sees the cluster.
    expect((await call('GET', '/v1/health', null)).status).toBe(200);
  });

  it('never writes a token or an agent key into a log', async () => {
    const logs = join(stack.stateDir, 'logs');
    const text = readdirSync(logs)
      .map((name) => readFileSync(join(logs, name), 'utf8'))
      .join('\n');
    expect(text.length).toBeGreaterThan(0);
    const keys = join(stack.stateDir, 'agent-keys');
    const keyBodies = readdirSync(keys).map((name) =>
      readFileSync(join(keys, name), 'utf8')
        .split('\n')
        .filter((line) => line && !line.startsWith('-----'))
        .join(''),
    );
    for (const secret of [stack.adminToken, stack.token, alpha.token, beta.token, ...keyBodies])
      expect(text.includes(secret)).toBe(false);
  });
});
