/** Load of echo probes: jobs of `batch` tasks, `inFlight` at a time, with every task accounted for. */
import type { TmClient } from '../../cli/sdk/client.ts';
import { rate } from './stats.ts';

export interface EchoLoad {
  batch: number;
  inFlight: number;
  /** Stop submitting once this many tasks are submitted… */
  total?: number;
  /** …or once this long has passed (whichever comes first). */
  durationMs?: number;
  /** How long one submission waits for its job to end (default 120 s). */
  waitSeconds?: number;
  /** Told the succeeded tasks of each job as it ends, for progress while the load runs. */
  onJobEnd?: (succeeded: number) => void;
}

export interface EchoFigures {
  submitted: number;
  succeeded: number;
  millis: number;
  /** Succeeded tasks per second, from the first submission to the last job's end. */
  tasksPerSecond: number;
  /** One line per job that did not end with every task succeeded: lost or failed tasks. */
  shortfalls: string[];
}

export async function runEchoLoad(client: TmClient, load: EchoLoad): Promise<EchoFigures> {
  const started = performance.now();
  const until = started + (load.durationMs ?? Infinity);
  const cap = load.total ?? Infinity;
  let submitted = 0;
  let succeeded = 0;
  const shortfalls: string[] = [];
  const lane = async () => {
    while (submitted < cap && performance.now() < until) {
      const count = Math.min(load.batch, cap - submitted);
      submitted += count;
      const job = await client.submitJob(
        { kind: 'echo', payload: null, count },
        load.waitSeconds ?? 120,
      );
      succeeded += job.counts.succeeded;
      load.onJobEnd?.(job.counts.succeeded);
      if (job.state !== 'succeeded' || job.counts.succeeded !== count)
        shortfalls.push(
          `job ${job.id} is ${job.state} with ${job.counts.succeeded} of ${count} tasks succeeded`,
        );
    }
  };
  await Promise.all(Array.from({ length: load.inFlight }, lane));
  const millis = performance.now() - started;
  return { submitted, succeeded, millis, tasksPerSecond: rate(succeeded, millis), shortfalls };
}
