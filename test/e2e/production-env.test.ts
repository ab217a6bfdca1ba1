/**
 * The production environment of wrangler.toml, run locally (`wrangler dev --env production`):
 * its own Durable Object binding, vars and required secret serve the API, and wrong tokens are
 * counted per `CF-Connecting-IP`, as behind Cloudflare's edge (`TM_BEHIND_CLOUDFLARE`).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startControlPlane, type ControlPlane } from '../../cli/local/control-plane.ts';
import { freePort } from '../../cli/local/ports.ts';

const ADMIN_TOKEN = randomBytes(32).toString('base64url');
let stateDir: string;
let plane: ControlPlane;

beforeAll(async () => {
  stateDir = mkdtempSync(join(tmpdir(), 'tm-production-env-'));
  plane = await startControlPlane({
    stateDir,
    port: await freePort(),
    environment: 'production',
    adminToken: ADMIN_TOKEN,
    // Not passed on: production requires only TM_ADMIN_TOKEN.
    joinToken: randomBytes(32).toString('base64url'),
  });
}, 120_000);

afterAll(async () => {
  await plane?.stop();
  if (stateDir) rmSync(stateDir, { recursive: true, force: true });
});

const workers = (token: string, clientIp: string) =>
  fetch(`${plane.url}/v1/workers`, {
    headers: { authorization: `Bearer ${token}`, 'cf-connecting-ip': clientIp },
  });

describe('the production environment', () => {
  it('answers health through its Scheduler binding, and the API to its admin token only', async () => {
    const health = await fetch(`${plane.url}/v1/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ ok: true, connectedWorkers: 0 });
    expect((await fetch(`${plane.url}/v1/workers`)).status).toBe(401);
    const listed = await workers(ADMIN_TOKEN, '198.51.100.7');
    expect(listed.status).toBe(200);
    expect(await listed.json()).toEqual({ workers: [] });
  });

  it("counts wrong tokens per client address: one client's are refused, another's are not", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) statuses.push((await workers('wrong', '203.0.113.1')).status);
    expect(statuses.slice(0, 9).every((status) => status === 401)).toBe(true);
    expect(statuses[9]).toBe(429);
    expect((await workers('wrong', '203.0.113.2')).status).toBe(401);
    expect((await workers(ADMIN_TOKEN, '203.0.113.1')).status).toBe(200);
  });
});
