/**
 * The control plane's metrics inside workerd: the counters the alarm moves (agent and job lease
 * expiries, lost and timed-out attempts, which the end-to-end test cannot bring about cheaply),
 * and who may read them when one of the two tokens is not configured.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SELF, env } from 'cloudflare:test';
import type { ErrorBody } from '../../protocol/index.ts';
import type { Env } from '../../src/env.ts';
import { app } from '../../src/app.ts';
import {
  ADMIN,
  assignmentOf,
  cleanUp,
  joinAgent,
  query,
  runAlarmNow,
  submitJob,
  waitFor,
} from './helpers.ts';

afterEach(cleanUp);

async function scrape(): Promise<Map<string, number>> {
  const response = await SELF.fetch('http://scheduler.test/metrics', { headers: ADMIN });
  expect(response.status).toBe(200);
  const samples = new Map<string, number>();
  for (const line of (await response.text()).split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    samples.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return samples;
}

const moved = (before: Map<string, number>, after: Map<string, number>, series: string) =>
  (after.get(series) ?? 0) - (before.get(series) ?? 0);

const AGENT_LEASE = 'tm_lease_expiries_total{lease="agent"}';
const JOB_LEASE = 'tm_lease_expiries_total{lease="job"}';
const LOST = 'tm_task_attempts_ended_total{outcome="lost"}';

describe('counters the alarm moves', () => {
  it("counts an agent's lease that expired, and the attempt it lost", async () => {
    const { agent, workerId } = await joinAgent();
    const job = await submitJob({ kind: 'echo' });
    await assignmentOf(agent, job.id);
    const before = await scrape();
    await query(`UPDATE workers SET last_heartbeat_at = ? WHERE id = ?`, 0, workerId);
    await runAlarmNow();
    const after = await waitFor(async () => {
      const samples = await scrape();
      return moved(before, samples, AGENT_LEASE) > 0 ? samples : undefined;
    }, 'the lease expiry to be counted');
    expect(moved(before, after, AGENT_LEASE)).toBe(1);
    expect(moved(before, after, JOB_LEASE)).toBe(0);
    expect(moved(before, after, LOST)).toBe(1);
  });

  it("counts a job's lease that expired on a silent agent", async () => {
    const silent = await joinAgent();
    const job = await submitJob({ kind: 'echo', leaseSeconds: 1 });
    await assignmentOf(silent.agent, job.id);
    const before = await scrape();
    await query(
      `UPDATE workers SET last_heartbeat_at = ? WHERE id = ?`,
      Date.now() - 2000,
      silent.workerId,
    );
    await runAlarmNow();
    const after = await scrape();
    expect(moved(before, after, JOB_LEASE)).toBe(1);
    expect(moved(before, after, AGENT_LEASE)).toBe(0);
    expect(moved(before, after, LOST)).toBe(1);
  });

  it('counts an attempt that timed out, and its run when it had started', async () => {
    const { agent } = await joinAgent();
    const job = await submitJob({ kind: 'echo', timeoutSeconds: 2 });
    const task = await assignmentOf(agent, job.id);
    agent.send({ type: 'started', tasks: [{ taskId: task.taskId, attempt: task.attempt }] });
    await agent.sync();
    const before = await scrape();
    await query(`UPDATE tasks SET deadline_at = ? WHERE id = ?`, Date.now() - 1, task.taskId);
    await runAlarmNow();
    const after = await scrape();
    expect(moved(before, after, 'tm_task_attempts_ended_total{outcome="timed_out"}')).toBe(1);
    expect(moved(before, after, 'tm_task_run_seconds_count')).toBe(1);
  });
});

describe('who may read /metrics', () => {
  const base = env as unknown as Env;
  const get = (token: string, bindings: Env) =>
    app.request('/metrics', { headers: { authorization: `Bearer ${token}` } }, bindings);

  it('answers 503 with a clear message when neither token is configured', async () => {
    const bare = { ...base, TM_ADMIN_TOKEN: undefined, TM_METRICS_TOKEN: undefined };
    const response = await get('anything', bare);
    expect(response.status).toBe(503);
    expect(((await response.json()) as ErrorBody).error).toMatchObject({
      code: 'auth_not_configured',
    });
  });

  it('takes the metrics token when it is the only one configured, and no other', async () => {
    const metricsOnly = { ...base, TM_ADMIN_TOKEN: undefined, TM_METRICS_TOKEN: 'scrape-me' };
    const served = await get('scrape-me', metricsOnly);
    expect(served.status).toBe(200);
    expect(served.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(await served.text()).toMatch(/^# TYPE tm_task_attempts_started_total counter$/m);
    expect((await get('test-admin-token', metricsOnly)).status).toBe(401);
  });
});
