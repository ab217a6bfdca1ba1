/** `tm demo`: starts the local stack, runs a command job on every worker with live output, shows what next. */
import { startStack, type Stack } from '../local/stack.ts';
import { TmClient } from '../sdk/client.ts';
import type { JobView } from '../../protocol/index.ts';
import { LOCAL_DEFAULTS, say } from './local-defaults.ts';

const DEMO_JOB = {
  kind: 'command' as const,
  name: 'demo: count on every worker',
  command: 'bash worker/scripts/count.sh',
  path: '.',
  env: { COUNT: '5', STEP_SECONDS: '0.2' },
  workers: 'all' as const,
};

export async function demo(args: string[]): Promise<number> {
  const keep = args.includes('--keep');
  const started = Date.now();
  const running = await isRunning(LOCAL_DEFAULTS.publicUrl);
  const stack: Stack | null = running ? null : await startStack({ ...LOCAL_DEFAULTS, log: say });
  const client = stack?.client ?? new TmClient(LOCAL_DEFAULTS.publicUrl);
  if (running) say(`using the stack already running at ${LOCAL_DEFAULTS.publicUrl}`);
  try {
    const workers = await client.listWorkers();
    say(
      `\n${workers.filter((w) => w.connected).length} workers connected: ${workers.map((w) => `${w.address} (${w.state})`).join(', ')}`,
    );
    say(`\nsubmitting: ${JSON.stringify(DEMO_JOB)}\n`);
    const job = await client.submitJob(DEMO_JOB);
    await streamOutput(client, job, workers);
    const done = await client.waitJob(job.id, 60_000);
    summarize(done, workers, Date.now() - started);
    return done.state === 'succeeded' ? 0 : 1;
  } finally {
    if (stack && !keep) {
      say('\nstopping the local stack (run `npm start` to keep one up) …');
      await stack.stop();
    } else if (stack) {
      say('\nthe stack stays up (--keep); press Ctrl-C to stop it.');
      await new Promise((resolve) => process.once('SIGINT', resolve));
      await stack.stop();
    }
  }
}

async function isRunning(url: string): Promise<boolean> {
  try {
    return (await fetch(`${url}/v1/health`, { signal: AbortSignal.timeout(1000) })).ok;
  } catch {
    return false;
  }
}

/** Prints each line of output prefixed with the address of the worker that produced it. */
async function streamOutput(
  client: TmClient,
  job: JobView,
  workers: { id: string; address: string }[],
): Promise<void> {
  const address = new Map(workers.map((w) => [w.id, w.address]));
  const workerOfTask = new Map(
    (job.tasks ?? []).map((t) => [t.id, t.pinnedWorkerId ?? t.workerId]),
  );
  for await (const event of client.followLogs({ jobId: job.id })) {
    if ('end' in event) break;
    const where = address.get(workerOfTask.get(event.taskId) ?? '') ?? event.taskId.slice(0, 8);
    for (const line of event.data.replace(/\n$/, '').split('\n')) {
      say(`  [${where}] ${event.stream === 'stderr' ? '(stderr) ' : ''}${line}`);
    }
  }
}

function summarize(
  job: JobView,
  workers: { id: string; address: string }[],
  elapsedMs: number,
): void {
  const address = new Map(workers.map((w) => [w.id, w.address]));
  say(
    `\njob ${job.id} ${job.state} in ${(elapsedMs / 1000).toFixed(1)} s (since the demo started)`,
  );
  for (const task of job.tasks ?? []) {
    say(
      `  task ${task.id.slice(0, 8)} on ${address.get(task.workerId ?? '') ?? '-'}: ${task.state}, exit code ${task.exitCode ?? '-'}`,
    );
  }
  const url = LOCAL_DEFAULTS.publicUrl;
  say(`
The API is at ${url}/v1 while the stack runs (\`npm start\` keeps it up). Try:
  curl ${url}/v1/workers
  curl -X POST ${url}/v1/jobs -d '{"kind":"command","command":"bash worker/scripts/count.sh","workers":2}'
  curl ${url}/v1/jobs/${job.id}
  curl "${url}/v1/jobs/${job.id}/logs?follow=true"
  curl -X POST "${url}/v1/jobs?wait=10" -d '{"kind":"echo","payload":{"hello":"world"}}'
See README.md for the API, the agent and how to deploy to Cloudflare.`);
}
