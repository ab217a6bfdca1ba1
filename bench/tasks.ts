/**
 * bench:tasks: scheduler overhead with echo probes through the local stack (real wrangler dev,
 * three real agents): throughput of batched submissions, and submit→done latency of single tasks.
 */
import type { Stack } from '../cli/local/stack.ts';
import { withTempStack } from './lib/temp-stack.ts';
import { ms, summarize } from './lib/stats.ts';
import { runEchoLoad } from './lib/echo-load.ts';
import { runBullmqPeer } from './peers/bullmq.ts';

const TOTAL = Number(process.env.BENCH_TASKS ?? 20_000);
const BATCH = Number(process.env.BENCH_BATCH ?? 1000);
const IN_FLIGHT = Number(process.env.BENCH_IN_FLIGHT ?? 4);
const SINGLES = Number(process.env.BENCH_SINGLES ?? 500);

export interface TaskFigures {
  tasksPerSecond: number;
  single: { p50: number; p99: number };
}

async function throughput(stack: Stack, total: number): Promise<number> {
  const figures = await runEchoLoad(stack.client, { batch: BATCH, inFlight: IN_FLIGHT, total });
  if (figures.shortfalls.length > 0) throw new Error(figures.shortfalls.join('\n'));
  return figures.tasksPerSecond;
}

async function singleLatency(stack: Stack, count: number): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    const job = await stack.client.submitJob({ kind: 'echo', payload: i }, 30);
    if (job.state !== 'succeeded') throw new Error(`job ${job.id} ended ${job.state}`);
    samples.push(performance.now() - started);
  }
  return samples;
}

async function healthLatency(stack: Stack, count: number): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    await stack.client.health();
    samples.push(performance.now() - started);
  }
  return samples;
}

async function main(): Promise<void> {
  console.log(
    `bench:tasks — ${TOTAL} echo tasks in jobs of ${BATCH} (${IN_FLIGHT} in flight), ${SINGLES} single tasks`,
  );
  const ours = await withTempStack({ agents: 3 }, async (stack) => {
    await throughput(stack, 2 * BATCH); // warm-up
    await singleLatency(stack, 50);
    const tasksPerSecond = await throughput(stack, TOTAL);
    const single = summarize(await singleLatency(stack, SINGLES));
    const floor = summarize(await healthLatency(stack, SINGLES));
    return { tasksPerSecond, single, floor };
  });
  console.log(`\nTM Scheduler (wrangler dev, 1 Durable Object, 3 agents)`);
  console.log(`  throughput          ${ours.tasksPerSecond} tasks/s`);
  console.log(
    `  single task         p50 ${ms(ours.single.p50)}, p99 ${ms(ours.single.p99)} (submit → done, one HTTP request with ?wait)`,
  );
  console.log(
    `  HTTP floor          p50 ${ms(ours.floor.p50)}, p99 ${ms(ours.floor.p99)} (GET /v1/health through wrangler dev)`,
  );

  const peer = await runBullmqPeer({
    total: TOTAL,
    batch: BATCH,
    inFlight: IN_FLIGHT,
    singles: SINGLES,
    workers: 3,
  });
  if (peer) {
    console.log(`\npeer: ${peer.name}`);
    console.log(`  throughput          ${peer.tasksPerSecond} tasks/s`);
    console.log(`  single task         p50 ${ms(peer.single.p50)}, p99 ${ms(peer.single.p99)}`);
    console.log(
      `\nratio (TM / peer)     throughput ${(ours.tasksPerSecond / peer.tasksPerSecond).toFixed(2)}×, single-task p50 ${(ours.single.p50 / peer.single.p50).toFixed(2)}×`,
    );
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
