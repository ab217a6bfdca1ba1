/**
 * Adversarial, on the real stack: an agent's data port (where upstream agents feed stream tasks'
 * stdin) against strangers. While a stream job runs, connections to the port of the agent that
 * holds its sink send garbage, a header with a wrong secret for the sink's real task id, a header
 * longer than the limit, and a well-formed header for a task nobody runs — the last three with
 * records after them. Each is dropped; the agent stays up and connected, and the sink holds
 * exactly the records the producers wrote, none of the strangers'.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { connect } from 'node:net';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobView, Stage } from '../../../protocol/index.ts';
import { startTestStack, type TestStack } from '../../support/stack.ts';
import { eventually, processAlive } from '../../support/wait.ts';

let stack: TestStack;

/** COUNT records, 500 every 100 ms: the job runs for seconds. */
const PRODUCER = `#!/usr/bin/env node
const count = Number(process.env.COUNT);
let n = 0;
function more() {
  let chunk = '';
  for (let i = 0; i < 500 && n < count; i++, n++) chunk += JSON.stringify({ id: n, k: n % 5 }) + '\\n';
  process.stdout.write(chunk);
  if (n < count) setTimeout(more, 100);
}
more();
`;

/** Counts records and any that are not the producers' (no numeric id). */
const SINK = `#!/usr/bin/env node
const fs = require('fs');
let count = 0, strangers = 0;
require('readline').createInterface({ input: process.stdin })
  .on('line', (line) => { count++; if (typeof JSON.parse(line).id !== 'number') strangers++; })
  .on('close', () => fs.writeSync(3, 'result ' + JSON.stringify({ count, strangers }) + '\\n'));
`;

const PRODUCERS = 2;
const COUNT = 8000;

/** The TCP ports `pid` listens on (Linux /proc: its socket inodes among the listening sockets). */
function listeningPorts(pid: number): number[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const inode = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1];
      if (inode) inodes.add(inode);
    } catch {
      // The fd closed meanwhile.
    }
  }
  const ports: number[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const row of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const fields = row.trim().split(/\s+/);
      // local_address is HEXIP:HEXPORT, st 0A is LISTEN, field 9 the inode.
      if (fields[3] === '0A' && inodes.has(fields[9] ?? ''))
        ports.push(parseInt(fields[1]!.split(':')[1]!, 16));
    }
  }
  return ports;
}

interface Probe {
  /** The connection was closed by the agent, not by us. */
  dropped: boolean;
  /** Bytes the agent sent back (it should say nothing). */
  reply: number;
}

/** Connects, sends `data`, and waits for the agent to close the connection (or the timeout). */
function probe(port: number, data: Buffer | string, timeoutMs: number): Promise<Probe> {
  return new Promise((resolve) => {
    let reply = 0;
    const socket = connect({ host: '127.0.0.1', port }, () => socket.write(data));
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ dropped: false, reply });
    }, timeoutMs);
    socket.on('data', (chunk: Buffer) => (reply += chunk.length));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ dropped: true, reply });
    });
  });
}

const header = (fields: Record<string, unknown>) =>
  `${JSON.stringify({ v: 1, epoch: 1, from: 'produce/0', ...fields })}\n`;
const records = Array.from({ length: 50 }, (_, i) => `{"id":"stranger-${i}","k":${i % 5}}\n`).join(
  '',
);

beforeAll(async () => {
  stack = await startTestStack({ agents: 3, slots: 3 });
  stack.writeScript('dp-producer.js', PRODUCER);
  stack.writeScript('dp-sink.js', SINK);
}, 120_000);
afterAll(async () => stack?.stop());

describe("an agent's data port", () => {
  it('drops garbage, wrong secrets, long headers and unknown tasks, and the job ends exact', async () => {
    const stages: Stage[] = [
      {
        name: 'produce',
        kind: 'command',
        command: './dp-producer.js',
        parallelism: PRODUCERS,
        env: { COUNT: String(COUNT) },
      },
      { name: 'sink', kind: 'command', command: './dp-sink.js', streamFrom: ['produce'] },
    ];
    const job = await stack.client.submitJob({ kind: 'dataflow', stages });
    const sinkTask = await eventually(async () => {
      const view = await stack.client.getJob(job.id);
      const task = view.tasks!.find((t) => t.stage?.name === 'sink' && t.state === 'running');
      return view.counts.running === PRODUCERS + 1 && task?.workerId ? task : undefined;
    }, 'the stream group to run');
    const { address } = await stack.client.getWorker(sinkTask.workerId!);
    const agent = stack.agents.find((a) => a.address === address)!;
    const pid = agent.process.pid!;
    const healthPort = Number(address.slice(address.lastIndexOf(':') + 1));
    const [dataPort] = listeningPorts(pid).filter((port) => port !== healthPort);
    expect(dataPort, 'the agent listens on a data port beside its health port').toBeDefined();

    const probes = await Promise.all([
      probe(dataPort!, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n\x00\xff garbage\n', 15_000),
      probe(dataPort!, header({ taskId: sinkTask.id, secret: '0'.repeat(64) }) + records, 15_000),
      probe(dataPort!, `{"v":1,"pad":"${'x'.repeat(4096)}`, 15_000),
      // A task nobody runs here: held a while (its task might be starting), then dropped.
      probe(dataPort!, header({ taskId: randomUUID(), secret: 'a'.repeat(64) }) + records, 60_000),
    ]);
    for (const [i, result] of probes.entries())
      expect(result, `probe ${'abcd'[i]}`).toEqual({ dropped: true, reply: 0 });

    const done: JobView = await stack.client.waitJob(job.id, 120_000);
    expect(done.state, JSON.stringify(done.stages)).toBe('succeeded');
    expect(done.stages!.find((s) => s.name === 'sink')!.restarts).toBe(0);
    const sink = done.tasks!.find((t) => t.stage?.name === 'sink')!.result;
    expect(sink).toEqual({ count: PRODUCERS * COUNT, strangers: 0 });
    expect(processAlive(pid)).toBe(true);
    const worker = await stack.client.getWorker(sinkTask.workerId!);
    expect(worker.connected).toBe(true);
  }, 180_000);
});
