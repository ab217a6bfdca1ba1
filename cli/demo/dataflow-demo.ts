/**
 * `tm demo dataflow` (`npm run demo:dataflow`): the seed's streaming pipeline for real. Starts the
 * local stack with three agents, runs examples/dataflow/seed/job.toml (Producer → Binlog → Receive
 * → Syncer → Sink, joined by stream edges), SIGKILLs an agent mid-run and starts it again, then
 * prints records/s, latency, restarts, and the sink's count and checksum beside the producers'.
 * Exits 1 unless the job succeeded and they are equal.
 */
import { join, relative } from 'node:path';
import { startStack } from '../local/stack.ts';
import { examplesDir, repoRoot } from '../local/repo.ts';
import { readJobFile } from '../job-file/job-file.ts';
import { localStackSettings, say } from '../commands/local-defaults.ts';
import { stopOnSignal, stopStack } from './demo-stop.ts';
import { stageInstances } from '../../protocol/index.ts';
import { watchSeedJob } from './dataflow-watch.ts';
import { seedReport } from './dataflow-report.ts';

export const SEED_JOB = join(examplesDir, 'dataflow', 'seed', 'job.toml');

/** Slots per agent: the group's 9 instances fit on two agents, so it runs again without waiting. */
const AGENT_SLOTS = 5;

export async function dataflowDemo(args: string[]): Promise<number> {
  const signals = stopOnSignal();
  const keep = args.includes('--keep');
  const request = await readJobFile(SEED_JOB);
  say(`TM dataflow demo: ${request.stages.map((s) => s.name).join(' → ')}, joined by stream edges`);
  // Its own stack, always: the demo SIGKILLs one of the agents, so they must be its children.
  const stack = await startStack({
    ...localStackSettings(process.env),
    s3Port: undefined,
    agentSlots: AGENT_SLOTS,
    log: say,
  });
  try {
    const job = await stack.client.submitJob(request);
    const instances = request.stages.map((s) => `${s.name} ×${stageInstances(s)}`).join(', ');
    say(`\njob ${job.id}: ${relative(repoRoot, SEED_JOB)} (${instances})`);
    const done = await watchSeedJob(stack, job, { killAfterMs: 2000, timeoutMs: 110_000, say });
    const seconds = (Date.parse(done.finishedAt ?? '') - Date.parse(done.createdAt)) / 1000;
    say(
      `\njob ${done.id} ${done.state} in ${seconds.toFixed(1)} s${done.error ? `: ${done.error}` : ''}`,
    );
    if (done.state !== 'succeeded') return 1;
    const report = seedReport(done);
    say(`the group's last run, from the stages' results:\n`);
    for (const line of report.lines) say(line && `   ${line}`);
    return report.equal ? 0 : 1;
  } finally {
    if (keep) {
      signals.hold();
      say(`\nthe stack stays up (--keep) at ${stack.url}; press Ctrl-C to stop it.`);
      await signals.first;
    }
    say('\nstopping the local stack …');
    await stopStack(stack);
  }
}
