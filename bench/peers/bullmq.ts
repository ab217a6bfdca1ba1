/**
 * Peer for bench:tasks: BullMQ on a local Redis, the common Node job queue, doing the same work:
 * no-op jobs run by three separate worker processes, added in bulk, and single jobs awaited.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Queue, QueueEvents } from 'bullmq';
import { freePort, waitForTcp } from '../../cli/local/ports.ts';
import { rate, summarize } from '../lib/stats.ts';
import type { TaskFigures } from '../tasks.ts';

interface PeerOptions {
  total: number;
  batch: number;
  inFlight: number;
  singles: number;
  workers: number;
}

export async function runBullmqPeer(
  options: PeerOptions,
): Promise<(TaskFigures & { name: string }) | null> {
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'ignore' });
  } catch {
    console.log('\npeer skipped: redis-server is not installed (apt-get install -y redis-server)');
    return null;
  }
  const dir = mkdtempSync(join(tmpdir(), 'tm-bench-redis-'));
  const port = await freePort();
  const redis = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      dir,
    ],
    { stdio: 'ignore' },
  );
  const workers: ChildProcess[] = [];
  try {
    await waitForTcp(port, 10_000);
    const connection = { host: '127.0.0.1', port };
    const queue = new Queue('bench', { connection });
    const events = new QueueEvents('bench', { connection });
    await events.waitUntilReady();
    const workerScript = fileURLToPath(new URL('./bullmq-worker.ts', import.meta.url));
    for (let i = 0; i < options.workers; i++) {
      workers.push(
        spawn(process.execPath, ['--import', 'tsx', workerScript, String(port)], {
          stdio: ['ignore', 'ignore', 'inherit'],
        }),
      );
    }
    let completed = 0;
    events.on('completed', () => completed++);
    const drain = async (target: number) => {
      while (completed < target) await new Promise((resolve) => setTimeout(resolve, 5));
    };
    const bulk = async (count: number) => {
      const start = completed;
      const started = performance.now();
      let added = 0;
      const lane = async () => {
        while (added < count) {
          const n = Math.min(options.batch, count - added);
          added += n;
          await queue.addBulk(
            Array.from({ length: n }, (_, i) => ({
              name: 'echo',
              data: i,
              opts: { removeOnComplete: true },
            })),
          );
        }
      };
      await Promise.all(Array.from({ length: options.inFlight }, lane));
      await drain(start + count);
      return rate(count, performance.now() - started);
    };
    const single = async (count: number) => {
      const samples: number[] = [];
      for (let i = 0; i < count; i++) {
        const started = performance.now();
        const job = await queue.add('echo', i);
        await job.waitUntilFinished(events, 30_000);
        samples.push(performance.now() - started);
      }
      return samples;
    };
    await bulk(2 * options.batch);
    await single(50);
    const tasksPerSecond = await bulk(options.total);
    const latency = summarize(await single(options.singles));
    await Promise.all([queue.close(), events.close()]);
    return {
      name: `BullMQ ${bullmqVersion()} on Redis (${options.workers} worker processes)`,
      tasksPerSecond,
      single: latency,
    };
  } finally {
    for (const worker of workers) worker.kill('SIGKILL');
    redis.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

function bullmqVersion(): string {
  try {
    return execFileSync(process.execPath, ['-p', "require('bullmq/package.json').version"], {
      encoding: 'utf8',
    }).trim();
  } catch {
    return '';
  }
}
