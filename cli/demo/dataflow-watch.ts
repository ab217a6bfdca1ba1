/**
 * Follows the seed job to its end: prints its stages' lines, where its instances were placed, the
 * fault (an agent SIGKILLed mid-run and started again) and the stream group's restarts.
 */
import { isEndState, type JobView } from '../../protocol/index.ts';
import type { Stack } from '../local/stack.ts';
import { followStageLogs, label } from './dataflow-logs.ts';
import { killAndRestart, pickVictim } from './dataflow-fault.ts';

export interface WatchOptions {
  /** How long every instance runs before the kill. */
  killAfterMs: number;
  timeoutMs: number;
  say: (line: string) => void;
}

const POLL_MS = 250;

/** Waits for the job to end, killing an agent on the way; returns its last view, with tasks. */
export async function watchSeedJob(
  stack: Stack,
  submitted: JobView,
  { killAfterMs, timeoutMs, say }: WatchOptions,
): Promise<JobView> {
  const started = performance.now();
  const at = (line: string) =>
    say(`${((performance.now() - started) / 1000).toFixed(1).padStart(6)} s  ${line}`);
  const logs = new AbortController();
  const following = followStageLogs(stack.client, submitted, at, logs.signal);
  let allRunningSince: number | null = null;
  let fault: Promise<void> | null = null;
  let restarts = 0;
  try {
    for (;;) {
      const job = await stack.client.getJob(submitted.id);
      if (isEndState(job.state)) {
        await fault;
        return job;
      }
      const total = job.tasks?.length ?? 0;
      const running = job.counts.running === total && total > 0;
      if (running && allRunningSince === null) {
        allRunningSince = performance.now();
        const agents = await placement(stack, job);
        at(`all ${total} instances run at once, on ${agents.length} agents:`);
        for (const line of agents) say(`           ${line}`);
      } else if (!running) allRunningSince = null;
      const now = Math.max(0, ...(job.stages ?? []).map((s) => s.restarts));
      if (now > restarts) at(`the stream group runs again from the start (restarts: ${now})`);
      restarts = now;
      if (!fault && allRunningSince !== null && performance.now() - allRunningSince > killAfterMs) {
        const victim = await pickVictim(stack, job);
        if (victim) {
          fault = killAndRestart(stack, victim, at);
          fault.catch(() => undefined); // awaited, and thrown, once the job has ended
        }
      }
      if (performance.now() - started > timeoutMs)
        throw new Error(`job ${job.id} did not end within ${timeoutMs / 1000} s`);
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  } finally {
    logs.abort();
    await following;
  }
}

/** Which instances each agent runs, a line each: `localhost:50051: producer#0, sink#0`. */
async function placement(stack: Stack, job: JobView): Promise<string[]> {
  const address = new Map((await stack.client.listWorkers()).map((w) => [w.id, w.address]));
  const perAgent = new Map<string, string[]>();
  for (const task of job.tasks ?? []) {
    const where = address.get(task.workerId ?? '') ?? '?';
    perAgent.set(where, [...(perAgent.get(where) ?? []), label(task)]);
  }
  return [...perAgent]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([where, instances]) => `${where}: ${instances.join(', ')}`);
}
