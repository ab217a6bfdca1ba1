/**
 * The API the dashboard reads beyond the rest (docs/dashboard.md): job list filters, throughput
 * buckets and the live overview stream, each in the caller's scope, and bad queries refused.
 */
import { SELF } from 'cloudflare:test';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ADMIN,
  api,
  assignmentOf,
  cleanUp,
  complete,
  conforms,
  fail,
  joinAgent,
  submitJob,
} from './helpers.ts';
import { MAX_STREAMS_PER_CALLER } from '../../durable-objects/events.ts';
import {
  Overview,
  THROUGHPUT_BUCKETS,
  type CreatedTenantToken,
  type JobPage,
  type Throughput,
} from '../../protocol/index.ts';

afterEach(cleanUp);

async function newTenant(): Promise<CreatedTenantToken> {
  const reply = await api<CreatedTenantToken>('POST', '/v1/tenants', {
    name: `dash-${crypto.randomUUID().slice(0, 8)}`,
  });
  if (reply.status !== 201) throw new Error(`create tenant: ${JSON.stringify(reply.body)}`);
  return reply.body;
}

const ids = (page: JobPage) => page.jobs.map((job) => job.id);

describe('GET /v1/jobs filters', () => {
  it('keeps jobs by kind, tenant and creation time, and pages within them', async () => {
    const tenant = await newTenant();
    const before = new Date().toISOString();
    const echo = await submitJob({ kind: 'echo' });
    const command = await submitJob({ kind: 'command', command: 'true' });
    const own = await api<{ id: string }>('POST', '/v1/jobs', { kind: 'echo' }, tenant.token);
    expect(own.status).toBe(202);

    const echoes = await api<JobPage>('GET', `/v1/jobs?kind=echo&since=${before}`);
    expect(echoes.status).toBe(200);
    conforms('GET', '/v1/jobs', echoes);
    expect(ids(echoes.body)).toEqual([own.body.id, echo.id]);
    const commands = await api<JobPage>('GET', `/v1/jobs?kind=command&since=${before}`);
    expect(ids(commands.body)).toEqual([command.id]);

    const byTenant = await api<JobPage>('GET', `/v1/jobs?tenant=${tenant.tenant.id}`);
    expect(ids(byTenant.body)).toEqual([own.body.id]);
    // A tenant sees only its own, whatever tenant it names.
    const other = crypto.randomUUID();
    const asTenant = await api<JobPage>('GET', `/v1/jobs?tenant=${other}`, undefined, tenant.token);
    expect(ids(asTenant.body)).toEqual([]);

    const until = (await api<JobPage>('GET', `/v1/jobs?until=${before}&limit=1000`)).body;
    expect(ids(until)).not.toContain(echo.id);
    const first = await api<JobPage>('GET', `/v1/jobs?since=${before}&limit=2`);
    expect(ids(first.body)).toEqual([own.body.id, command.id]);
    const next = await api<JobPage>(
      'GET',
      `/v1/jobs?since=${before}&limit=2&cursor=${first.body.next}`,
    );
    expect(ids(next.body)).toEqual([echo.id]);
    expect(next.body.next).toBeNull();
  });

  it.each([
    ['kind=mapreduce', /kind/],
    ['tenant=alpha', /tenant/],
    ['since=yesterday', /since/],
    ['until=2026-13-01T00:00:00Z', /until/],
    ['since=2026-02-01T00:00:00Z&until=2026-01-01T00:00:00Z', /"since" must be before "until"/],
  ])('refuses %s with a 400', async (queryString, message) => {
    const reply = await api<{ error: { message: string } }>('GET', `/v1/jobs?${queryString}`);
    expect(reply.status).toBe(400);
    expect(reply.body.error.message).toMatch(message);
  });
});

describe('GET /v1/throughput', () => {
  it("counts succeeded tasks and failed attempts per bucket, the caller's own", async () => {
    const { agent } = await joinAgent();
    const ok = await submitJob({ kind: 'command', command: 'true' });
    complete(agent, await assignmentOf(agent, ok.id));
    const bad = await submitJob({ kind: 'command', command: 'false', retries: 0 });
    fail(agent, await assignmentOf(agent, bad.id), 'exit 1');
    const tenant = await newTenant();

    const sum = (t: Throughput, key: 'succeeded' | 'failed') =>
      t.buckets.reduce((n, bucket) => n + bucket[key], 0);
    let admin: Throughput | null = null;
    for (let i = 0; i < 50; i++) {
      const reply = await api<Throughput>('GET', '/v1/throughput?minutes=5');
      conforms('GET', '/v1/throughput', reply);
      admin = reply.body;
      if (sum(admin, 'succeeded') >= 1 && sum(admin, 'failed') >= 1) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    if (!admin) throw new Error('unreachable');
    expect(admin.buckets).toHaveLength(THROUGHPUT_BUCKETS);
    expect(admin).toMatchObject({ windowSeconds: 300, bucketSeconds: 5 });
    expect(sum(admin, 'succeeded')).toBeGreaterThanOrEqual(1);
    expect(sum(admin, 'failed')).toBeGreaterThanOrEqual(1);
    const last = admin.buckets.at(-1);
    expect(Date.parse(last?.start ?? '')).toBeLessThanOrEqual(Date.now());

    const own = (await api<Throughput>('GET', '/v1/throughput', undefined, tenant.token)).body;
    expect(own.windowSeconds).toBe(600);
    expect(sum(own, 'succeeded') + sum(own, 'failed')).toBe(0);
  });

  it.each(['minutes=0', 'minutes=61', 'minutes=ten', 'window=5'])(
    'refuses %s with a 400',
    async (queryString) => {
      expect((await api('GET', `/v1/throughput?${queryString}`)).status).toBe(400);
    },
  );
});

/** Opens the event stream and reads its first event's snapshot. */
async function firstOverview(token: string | null) {
  const headers = token === null ? ADMIN : { authorization: `Bearer ${token}` };
  const response = await SELF.fetch('http://scheduler.test/v1/events', { headers });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toBe('text/event-stream');
  const reader = response.body?.getReader();
  if (!reader) throw new Error('no body');
  let text = '';
  while (!text.includes('\n\n')) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`the stream ended: ${text}`);
    text += new TextDecoder().decode(value);
  }
  const [event, data] = text.split('\n');
  expect(event).toBe('event: overview');
  await reader.cancel();
  return Overview.parse(JSON.parse(data?.replace(/^data: /, '') ?? ''));
}

describe('GET /v1/events', () => {
  it("pushes an overview in the caller's scope: workers and queue for the admin only", async () => {
    await joinAgent();
    const tenant = await newTenant();
    const running = await submitJob({ kind: 'command', command: 'sleep 5' });
    const admin = await firstOverview(null);
    expect(admin.workers?.length).toBeGreaterThanOrEqual(1);
    expect(admin.queue).toBeDefined();
    expect(admin.throughput.buckets).toHaveLength(THROUGHPUT_BUCKETS);
    expect(admin.queued + admin.running).toBeGreaterThanOrEqual(1);
    const own = await firstOverview(tenant.token);
    expect(own.workers).toBeUndefined();
    expect(own.queue).toBeUndefined();
    expect(own.jobs.map((job) => job.id)).not.toContain(running.id);
    expect(own.queued + own.running).toBe(0);
  });

  it("closes a caller's oldest stream when it opens one past its cap", async () => {
    const tenant = await newTenant();
    const headers = { authorization: `Bearer ${tenant.token}` };
    const readers = [];
    for (let i = 0; i <= MAX_STREAMS_PER_CALLER; i++) {
      const response = await SELF.fetch('http://scheduler.test/v1/events', { headers });
      expect(response.status).toBe(200);
      const reader = response.body!.getReader();
      expect(new TextDecoder().decode((await reader.read()).value)).toMatch(/^event: overview/);
      readers.push(reader);
    }
    // The first ends; the newest goes on.
    const [first] = readers;
    let ended = false;
    while (!ended) ended = (await first!.read()).done;
    expect(ended).toBe(true);
    for (const reader of readers.slice(1)) await reader.cancel();
  });

  it('refuses a query parameter with a 400', async () => {
    expect((await api('GET', '/v1/events?since=now')).status).toBe(400);
  });
});
