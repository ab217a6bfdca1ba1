/** Demo step 1: a command job on every worker, its output streamed with the worker's address. */
import type { JobView, WorkerView } from '../../protocol/index.ts';
import type { TmClient } from '../sdk/client.ts';

const DEMO_JOB = {
  kind: 'command' as const,
  name: 'demo: count on every worker',
  command: 'bash worker/scripts/count.sh',
  path: '.',
  env: { COUNT: '5', STEP_SECONDS: '0.2' },
  workers: 'all' as const,
};

export async function commandStep(client: TmClient, say: (line: string) => void): Promise<JobView> {
  const workers = await client.listWorkers();
  say(
    `\n${workers.filter((w) => w.connected).length} workers connected: ${workers.map((w) => `${w.address} (${w.state})`).join(', ')}`,
  );
  say(`\n1. a command job on every worker: ${JSON.stringify(DEMO_JOB)}\n`);
  const job = await client.submitJob(DEMO_JOB);
  await streamOutput(client, job, workers, say);
  const done = await client.waitJob(job.id, 60_000);
  const address = new Map(workers.map((w) => [w.id, w.address]));
  say(`\n   job ${done.id} ${done.state}`);
  for (const task of done.tasks ?? []) {
    say(
      `   task ${task.id.slice(0, 8)} on ${address.get(task.workerId ?? '') ?? '-'}: ${task.state}, exit code ${task.exitCode ?? '-'}`,
    );
  }
  return done;
}

async function streamOutput(
  client: TmClient,
  job: JobView,
  workers: WorkerView[],
  say: (line: string) => void,
): Promise<void> {
  const address = new Map(workers.map((w) => [w.id, w.address]));
  const workerOfTask = new Map(
    (job.tasks ?? []).map((t) => [t.id, t.pinnedWorkerId ?? t.workerId]),
  );
  for await (const event of client.followLogs({ jobId: job.id })) {
    if ('end' in event) break;
    const where = address.get(workerOfTask.get(event.taskId) ?? '') ?? event.taskId.slice(0, 8);
    for (const line of event.data.replace(/\n$/, '').split('\n')) {
      say(`   [${where}] ${event.stream === 'stderr' ? '(stderr) ' : ''}${line}`);
    }
  }
}
