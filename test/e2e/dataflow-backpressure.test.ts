/**
 * End to end: backpressure on stream edges. Two fast producers write ~200 MB of records to a sink
 * that waits seconds before it reads at all; every agent's RSS is sampled through the run and
 * must grow by far less than the data (a slow consumer slows its producers instead of filling
 * an agent's memory), and the sink still gets every record.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobView, Stage } from '../../protocol/index.ts';
import { startTestStack, type TestStack } from '../support/stack.ts';

let stack: TestStack;

const RECORDS_PER_PRODUCER = 1_250_000;
const WARM_RECORDS_PER_PRODUCER = 250_000;
const RECORD_BYTES = 100;
const MAX_GROWTH_BYTES = 100 * 1024 * 1024;

/** COUNT records of exactly RECORD_BYTES bytes (newline included), in 64 KiB writes. */
const PRODUCER = `#!/usr/bin/env node
const fs = require('fs');
const count = Number(process.env.COUNT), size = Number(process.env.RECORD_BYTES);
const me = process.env.TM_INSTANCE;
let n = 0;
function record(i) {
  const head = '{"id":"p' + me + '-' + i + '","v":"';
  return head + 'x'.repeat(size - head.length - 3) + '"}\\n';
}
function more() {
  while (n < count) {
    let chunk = '';
    for (let i = 0; i < 640 && n < count; i++, n++) chunk += record(n);
    if (!process.stdout.write(chunk)) return process.stdout.once('drain', more);
  }
}
more();
`;

/** Waits DELAY_MS before reading, then counts records and their bytes. */
const SINK = `#!/usr/bin/env node
const fs = require('fs');
let count = 0, bytes = 0;
// No reader until then: stdin is not read (a paused stdin would let the process exit).
setTimeout(() => {
  process.stdin.on('data', (chunk) => {
    bytes += chunk.length;
    for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) count++;
  });
  process.stdin.on('end', () => fs.writeSync(3, 'result ' + JSON.stringify({ count, bytes }) + '\\n'));
}, Number(process.env.DELAY_MS));
`;

/** Resident set size of a process, in bytes (Linux /proc); NaN once it is gone. */
function rssBytes(pid: number | undefined): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1]) * 1024;
  } catch {
    return NaN;
  }
}

/** Samples every agent's RSS until stopped; gives each agent's largest growth over its start. */
function sampleRss(pids: (number | undefined)[]) {
  const base = pids.map(rssBytes);
  const peak = [...base];
  const timer = setInterval(() => {
    pids.forEach((pid, i) => {
      const rss = rssBytes(pid);
      if (rss > peak[i]!) peak[i] = rss;
    });
  }, 50);
  return {
    stop: () => {
      clearInterval(timer);
      return peak.map((p, i) => p - base[i]!);
    },
  };
}

beforeAll(async () => {
  stack = await startTestStack({ agents: 3, slots: 3 });
  stack.writeScript('bp-producer.js', PRODUCER);
  stack.writeScript('bp-sink.js', SINK);
}, 120_000);
afterAll(async () => stack?.stop());

const stages = (records: number, delayMs: number): Stage[] => [
  {
    name: 'produce',
    kind: 'command',
    command: './bp-producer.js',
    parallelism: 2,
    env: { COUNT: String(records), RECORD_BYTES: String(RECORD_BYTES) },
  },
  {
    name: 'sink',
    kind: 'command',
    command: './bp-sink.js',
    streamFrom: ['produce'],
    env: { DELAY_MS: String(delayMs) },
  },
];

describe('stream backpressure', () => {
  it("keeps every agent's memory far below the data when the sink is slow, and loses no record", async () => {
    // A run at full speed first (50 MB): the agents' one-time growth is not the stream's. V8
    // sizes its young generation (up to 3 × 16 MiB) and old space to the allocation rate it sees;
    // after a 2 MB warm-up that growth landed inside the measured run, and one agent's RSS went
    // from 31 to 104 MiB between two CI runs of the same code.
    const warm = await stack.client.submitJob(
      { kind: 'dataflow', stages: stages(WARM_RECORDS_PER_PRODUCER, 0) },
      120,
    );
    expect(warm.state, JSON.stringify(warm.stages)).toBe('succeeded');
    const rss = sampleRss(stack.agents.map((agent) => agent.process.pid));
    const job = await stack.client.submitJob({
      kind: 'dataflow',
      stages: stages(RECORDS_PER_PRODUCER, 5000),
    });
    const done: JobView = await stack.client.waitJob(job.id, 240_000);
    const growth = rss.stop();
    expect(done.state, JSON.stringify(done.stages)).toBe('succeeded');
    const sink = done.tasks!.find((t) => t.stage?.name === 'sink')!.result as {
      count: number;
      bytes: number;
    };
    const volume = 2 * RECORDS_PER_PRODUCER * RECORD_BYTES;
    expect(sink).toEqual({ count: 2 * RECORDS_PER_PRODUCER, bytes: volume });
    // The group ran on more than one agent, so records crossed the data plane's sockets.
    expect(new Set(done.tasks!.map((t) => t.workerId)).size).toBeGreaterThan(1);
    const mb = growth.map((bytes) => (bytes / 2 ** 20).toFixed(1));
    console.log(`agents' RSS growth (MiB) with ${volume / 1e6} MB streamed: ${mb.join(', ')}`);
    for (const bytes of growth)
      expect(bytes, `RSS growth ${mb.join(', ')} MiB`).toBeLessThan(MAX_GROWTH_BYTES);
    // The bound means something: the data is twice as large.
    expect(volume).toBeGreaterThan(2 * MAX_GROWTH_BYTES);
  }, 300_000);
});
