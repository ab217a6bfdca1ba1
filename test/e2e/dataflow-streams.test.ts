/**
 * End to end: stream edges between running stage instances, agent to agent over real sockets.
 * Records are shuffled by key, barriers hold a stage until all its instances reach them, and a
 * SIGKILLed agent's group runs again so that the sink holds every record exactly once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobView, Stage } from '../../protocol/index.ts';
import { TmClient } from '../../cli/sdk/client.ts';
import { startTestStack, type TestStack } from '../support/stack.ts';
import { grantTenant } from '../support/tenants.ts';
import { freePort } from '../../cli/local/ports.ts';
import { connect } from 'node:net';
import { eventually } from '../support/wait.ts';

let stack: TestStack;

/** Emits COUNT records {id, k}; SLOW_MS pauses every 500 records, so a kill lands mid-stream. */
const PRODUCER = `#!/usr/bin/env node
const count = Number(process.env.COUNT), slow = Number(process.env.SLOW_MS || 0);
const me = process.env.TM_INSTANCE;
let n = 0;
function more() {
  let chunk = '';
  for (let i = 0; i < 500 && n < count; i++, n++) chunk += JSON.stringify({ id: 'p' + me + '-' + n, k: n % 7 }) + '\\n';
  const ok = process.stdout.write(chunk);
  if (n >= count) return;
  if (slow) setTimeout(more, slow); else if (ok) setImmediate(more); else process.stdout.once('drain', more);
}
more();
`;

/** Passes records on, noting each key it saw; reports the keys through fd 3. */
const RELAY = `#!/usr/bin/env node
const fs = require('fs');
const keys = new Set();
const rl = require('readline').createInterface({ input: process.stdin });
rl.on('line', (line) => {
  const r = JSON.parse(line);
  keys.add(r.k);
  r.via = Number(process.env.TM_INSTANCE);
  if (!process.stdout.write(JSON.stringify(r) + '\\n')) { rl.pause(); process.stdout.once('drain', () => rl.resume()); }
});
rl.on('close', () => fs.writeSync(3, 'result ' + JSON.stringify({ keys: [...keys].sort() }) + '\\n'));
`;

/** Counts records and sums a hash of each id, in any order; DELAY_MS before reading (a slow sink). */
const SINK = `#!/usr/bin/env node
const fs = require('fs');
let count = 0, sum = 0, dupes = 0;
const seen = new Set();
function start() {
  const rl = require('readline').createInterface({ input: process.stdin });
  rl.on('line', (line) => {
    const { id } = JSON.parse(line);
    if (seen.has(id)) dupes++;
    seen.add(id);
    count++;
    let h = 0;
    for (let i = 0; i < id.length; i++) h = (h * 31 + id.charCodeAt(i)) % 1000000007;
    sum = (sum + h) % 1000000007;
  });
  rl.on('close', () => fs.writeSync(3, 'result ' + JSON.stringify({ count, sum, dupes, distinct: seen.size }) + '\\n'));
}
setTimeout(start, Number(process.env.DELAY_MS || 0));
`;

/** Reaches barrier "b" (instance 0 late), and reports when it arrived and was released. */
const WAITER = `#!/usr/bin/env node
const fs = require('fs');
const late = process.env.TM_INSTANCE === '0' ? 1500 : 0;
setTimeout(() => {
  const arrived = Date.now();
  fs.writeSync(3, 'barrier b\\n');
  const buf = Buffer.alloc(64);
  const n = fs.readSync(3, buf);
  const released = Date.now();
  fs.writeSync(3, 'result ' + JSON.stringify({ arrived, released, reply: buf.subarray(0, n).toString().trim() }) + '\\n');
}, late);
`;

beforeAll(async () => {
  stack = await startTestStack({ agents: 3, slots: 3 });
  stack.writeScript('producer.js', PRODUCER);
  stack.writeScript('relay.js', RELAY);
  stack.writeScript('sink.js', SINK);
  stack.writeScript('waiter.js', WAITER);
}, 120_000);
afterAll(async () => stack?.stop());

/** Resolves once something accepts TCP connections on localhost:port. */
/** Whether something takes connections on `port` now. */
const accepts = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect({ host: 'localhost', port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });

/** Waits for `port` to take connections: a started agent listens before it connects. */
const listening = (port: number) =>
  eventually(async () => ((await accepts(port)) ? true : undefined), `port ${port} to listen`);

/** The sink's checksum of the ids producers would make. */
function expectedSum(producers: number, count: number): number {
  let sum = 0;
  for (let p = 0; p < producers; p++)
    for (let n = 0; n < count; n++) {
      const id = `p${p}-${n}`;
      let h = 0;
      for (let i = 0; i < id.length; i++) h = (h * 31 + id.charCodeAt(i)) % 1000000007;
      sum = (sum + h) % 1000000007;
    }
  return sum;
}

const pipeline = (count: number, env: Record<string, string> = {}): Stage[] => [
  {
    name: 'produce',
    kind: 'command',
    command: './producer.js',
    parallelism: 2,
    env: { COUNT: String(count), ...env },
  },
  {
    name: 'relay',
    kind: 'command',
    command: './relay.js',
    parallelism: 2,
    streamFrom: ['produce'],
    key: 'k',
  },
  { name: 'sink', kind: 'command', command: './sink.js', streamFrom: ['relay'], env },
];

const resultOf = (job: JobView, stage: string, instance = 0) =>
  job.tasks!.find((t) => t.stage?.name === stage && t.stage.instance === instance)!
    .result as Record<string, unknown>;

describe('stream edges', () => {
  it('streams records producer → relay → sink, shuffled by key, each exactly once', async () => {
    const job = await stack.client.submitJob({ kind: 'dataflow', stages: pipeline(5000) });
    const done = await stack.client.waitJob(job.id, 90_000);
    expect(done.state, JSON.stringify(done.stages)).toBe('succeeded');
    const sink = resultOf(done, 'sink');
    expect(sink).toEqual({ count: 10_000, sum: expectedSum(2, 5000), dupes: 0, distinct: 10_000 });
    // Equal keys meet at one relay instance: the two saw disjoint keys, all seven between them.
    const [a, b] = [0, 1].map((i) => resultOf(done, 'relay', i).keys as number[]);
    expect(a!.filter((k) => b!.includes(k))).toEqual([]);
    expect([...a!, ...b!].sort()).toEqual([0, 1, 2, 3, 4, 5, 6]);
    // Every instance of the group ran at once, on more than one agent.
    const workers = new Set(done.tasks!.map((t) => t.workerId));
    expect(workers.size).toBeGreaterThan(1);
  });

  it('holds a stage at a barrier until every instance has reached it', async () => {
    const job = await stack.client.submitJob({
      kind: 'dataflow',
      stages: [
        { name: 'feed', kind: 'command', command: 'true' },
        {
          name: 'wait',
          kind: 'command',
          command: './waiter.js',
          parallelism: 3,
          streamFrom: ['feed'],
        },
      ],
    });
    const done = await stack.client.waitJob(job.id, 60_000);
    expect(done.state, JSON.stringify(done.stages)).toBe('succeeded');
    const results = [0, 1, 2].map(
      (i) => resultOf(done, 'wait', i) as { arrived: number; released: number; reply: string },
    );
    const lastArrival = Math.max(...results.map((r) => r.arrived));
    for (const r of results) {
      expect(r.reply).toBe('go b');
      expect(r.released).toBeGreaterThanOrEqual(lastArrival);
    }
  });

  it('runs the group again when an agent is SIGKILLed mid-stream, and the sink holds each record once', async () => {
    const count = 20_000;
    const job = await stack.client.submitJob({
      kind: 'dataflow',
      stages: pipeline(count, { SLOW_MS: '100' }),
    });
    const running = await eventually(async () => {
      const view = await stack.client.getJob(job.id);
      const sinkTask = view.tasks!.find((t) => t.stage?.name === 'relay' && t.state === 'running');
      return view.counts.running === 5 && sinkTask?.workerId ? sinkTask : undefined;
    }, 'the whole group to run');
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const { address } = await stack.client.getWorker(running.workerId!);
    const victim = stack.agents.find((a) => a.address === address)!;
    victim.signal('SIGKILL');
    await victim.exited;
    stack.agents.splice(stack.agents.indexOf(victim), 1);
    // The new agent takes records on a port of its operator's choosing (a firewall's).
    const dataPort = await freePort();
    await stack.addAgent({ slots: 3, args: ['--data-port', String(dataPort)] });
    await listening(dataPort);
    const done = await stack.client.waitJob(job.id, 120_000);
    expect(done.state, JSON.stringify(done.stages)).toBe('succeeded');
    expect(done.stages!.find((s) => s.name === 'sink')!.restarts).toBeGreaterThanOrEqual(1);
    expect(resultOf(done, 'sink')).toEqual({
      count: 2 * count,
      sum: expectedSum(2, count),
      dupes: 0,
      distinct: 2 * count,
    });
  });

  it('holds a group until all its instances have slots at once, saying so, then runs it', async () => {
    // 8 of the 9 slots are taken: a group of three waits whole rather than starting in part.
    const blocker = await stack.client.submitJob({
      kind: 'command',
      command: 'sleep 60',
      workers: 8,
    });
    await eventually(
      async () => ((await stack.client.getJob(blocker.id)).counts.running === 8 ? true : undefined),
      'the blocker to take 8 slots',
    );
    const job = await stack.client.submitJob({
      kind: 'dataflow',
      stages: [
        { name: 'p', kind: 'command', command: './producer.js', env: { COUNT: '100' } },
        { name: 'q', kind: 'command', command: './sink.js', parallelism: 2, streamFrom: ['p'] },
      ],
    });
    const waiting = await eventually(async () => {
      const view = await stack.client.getJob(job.id);
      return view.stages!.every((s) => s.waitingFor) ? view : undefined;
    }, 'the group to say what it waits for');
    expect(waiting.stages![0]!.waitingFor).toBe(
      "3 free slots at once for its stream group's instances; 1 free now",
    );
    expect(waiting.counts.running).toBe(0);
    await stack.client.cancelJob(blocker.id);
    const done = await stack.client.waitJob(job.id, 60_000);
    expect(done.state).toBe('succeeded');
    expect(done.stages!.every((s) => s.waitingFor === null)).toBe(true);
    const counts = [0, 1].map((i) => resultOf(done, 'q', i).count as number);
    expect(counts[0]! + counts[1]!).toBe(100);
  });

  it('streams on across a control-plane restart, the sink still holding each record once', async () => {
    const count = 10_000;
    const job = await stack.client.submitJob({
      kind: 'dataflow',
      stages: pipeline(count, { SLOW_MS: '100' }),
    });
    await eventually(
      async () => ((await stack.client.getJob(job.id)).counts.running === 5 ? true : undefined),
      'the whole group to run',
    );
    await stack.restartControlPlane();
    const done = await stack.client.waitJob(job.id, 120_000);
    expect(done.state, JSON.stringify(done.stages)).toBe('succeeded');
    expect(resultOf(done, 'sink')).toEqual({
      count: 2 * count,
      sum: expectedSum(2, count),
      dupes: 0,
      distinct: 2 * count,
    });
  });

  it("checks a tenant's right to each stage's kind, and shows it only its own jobs", async () => {
    const created = await stack.client.createTenant({ name: 'streamer' });
    const tenant = new TmClient(stack.url, { token: created.token });
    // A tenant's tasks run in its own folder, and see the scripts in the work dir read-only.
    const stages: Stage[] = [
      { name: 'p', kind: 'command', command: `${stack.workDir}/producer.js`, env: { COUNT: '10' } },
      { name: 'q', kind: 'command', command: `${stack.workDir}/sink.js`, streamFrom: ['p'] },
    ];
    // A new tenant may not run commands: a dataflow of command stages is refused as a command job.
    const refused = await tenant
      .submitJob({ kind: 'dataflow', stages })
      .catch((error: unknown) => error);
    expect(String(refused)).toContain('may not submit command jobs');
    await grantTenant(stack.client, 'streamer', { jobKinds: ['command', 'echo'] });
    const own = await tenant.submitJob({ kind: 'dataflow', stages }, 60);
    expect(own.state, JSON.stringify(own.stages)).toBe('succeeded');
    expect(resultOf(own, 'q').count).toBe(10);
    const admins = await stack.client.submitJob({
      kind: 'dataflow',
      stages: [{ name: 'e', kind: 'echo' }],
    });
    const seen = await fetch(`${stack.url}/v1/jobs/${admins.id}`, {
      headers: { authorization: `Bearer ${created.token}` },
    });
    expect(seen.status).toBe(404);
  });

  it('lets a producer finish when its consumer ends well early, as a pipe into head does', async () => {
    const job = await stack.client.submitJob(
      {
        kind: 'dataflow',
        stages: [
          { name: 'p', kind: 'command', command: './producer.js', env: { COUNT: '200000' } },
          { name: 'first', kind: 'command', command: 'head -n 1', streamFrom: ['p'] },
        ],
      },
      60,
    );
    expect(job.state, JSON.stringify(job.stages)).toBe('succeeded');
    expect(job.stages!.every((s) => s.restarts === 0)).toBe(true);
    expect(resultOf(job, 'first') as unknown).toBe('{"id":"p0-0","k":0}');
  });

  it('refuses a stream edge into a batch-only stage', async () => {
    const res = await fetch(`${stack.url}/v1/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${stack.adminToken}` },
      body: JSON.stringify({
        kind: 'dataflow',
        stages: [
          { name: 'a', kind: 'command', command: 'true' },
          { name: 'b', kind: 'echo', streamFrom: ['a'] },
        ],
      }),
    });
    expect(res.status).toBe(400);
    expect(JSON.stringify(await res.json())).toContain('a stream edge into a batch-only stage');
  });
});
