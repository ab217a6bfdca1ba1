/**
 * bench:failover: how fast a task moves off a dead agent, through the local stack (real wrangler
 * dev, three real agents). An agent killed with SIGKILL (its socket closes), an agent stopped with
 * SIGSTOP (silent until its lease lapses), and echo throughput while agents die every few seconds.
 */
import { availableParallelism } from 'node:os';
import type { TaskView } from '../protocol/index.ts';
import { waitForConnected, type Stack } from '../cli/local/stack.ts';
import { withTempStack } from './lib/temp-stack.ts';
import { ms, summarize, type Summary } from './lib/stats.ts';
import { runEchoLoad, type EchoFigures } from './lib/echo-load.ts';
import { agentOf, churnAgents, replaceAgent } from './lib/agent-churn.ts';
import { startupCpu } from './lib/agent-startup.ts';
import { eventually } from '../test/support/wait.ts';

const KILLS = Number(process.env.BENCH_KILLS ?? 15);
const STOPS = Number(process.env.BENCH_STOPS ?? 5);
const HEARTBEAT_MS = Number(process.env.BENCH_HEARTBEAT_MS ?? 1000);
const LEASE_MS = Number(process.env.BENCH_LEASE_MS ?? 3000);
const LOAD_SECONDS = Number(process.env.BENCH_LOAD_SECONDS ?? 24);
const CHURN_EVERY_MS = Number(process.env.BENCH_CHURN_EVERY_MS ?? 5000);
const BATCH = Number(process.env.BENCH_BATCH ?? 1000);
const IN_FLIGHT = Number(process.env.BENCH_IN_FLIGHT ?? 4);
const STARTUPS = Number(process.env.BENCH_STARTUPS ?? 5);
const AGENTS = 3;
const cpus = availableParallelism();

/** Only the first attempt runs long; the retry on another agent ends at once. */
const LONG_ON_FIRST_ATTEMPT = 'if [ "$TM_ATTEMPT" = 1 ]; then exec sleep 20; fi';

interface Failover {
  /** Signal → the task's next attempt started on another agent (the DO's startedAt). */
  total: number;
  /** Signal → that attempt assigned (the DO's assignedAt): detection, requeue and dispatch. */
  assigned: number;
}

const at = (iso: string | null) => (iso === null ? NaN : Date.parse(iso));

/** Runs one long task, hits the agent running it with `signal`, and times the move elsewhere. */
async function failoverOnce(stack: Stack, signal: 'SIGKILL' | 'SIGSTOP'): Promise<Failover> {
  const job = await stack.client.submitJob({ kind: 'command', command: LONG_ON_FIRST_ATTEMPT });
  const taskId = job.tasks?.[0]?.id;
  if (!taskId) throw new Error(`job ${job.id} has no task`);
  const first = await eventually(
    async () => {
      const task = await stack.client.getTask(taskId);
      return task.state === 'running' && task.workerId ? task : undefined;
    },
    'the first attempt to run',
    { timeoutMs: 30_000, intervalMs: 10 },
  );
  const victim = await agentOf(stack, first.workerId!);
  const hitAt = Date.now();
  victim.signal(signal);
  // Polled: the figures come from the DO's own timestamps, so the poll rate does not skew them.
  const moved: TaskView = await eventually(
    async () => {
      const task = await stack.client.getTask(taskId);
      return task.attempt >= 2 && task.startedAt !== null ? task : undefined;
    },
    'the second attempt to start',
    { timeoutMs: LEASE_MS + 30_000, intervalMs: 10 },
  );
  if (moved.workerId === first.workerId) throw new Error(`task ${taskId} ran again on its worker`);
  await replaceAgent(stack, victim);
  const done = await stack.client.waitJob(job.id, 30_000);
  if (done.state !== 'succeeded') throw new Error(`job ${job.id} ended ${done.state}`);
  await waitForConnected(stack.client, AGENTS);
  return { total: at(moved.startedAt) - hitAt, assigned: at(moved.assignedAt) - hitAt };
}

async function failovers(stack: Stack, signal: 'SIGKILL' | 'SIGSTOP', count: number) {
  const samples: Failover[] = [];
  for (let i = 0; i < count; i++) samples.push(await failoverOnce(stack, signal));
  return {
    total: summarize(samples.map((s) => s.total)),
    assigned: summarize(samples.map((s) => s.assigned)),
    running: summarize(samples.map((s) => s.total - s.assigned)),
  };
}

/** Echo throughput for LOAD_SECONDS, with agents killed and restarted on a beat when `churn`. */
async function load(stack: Stack, churn: boolean) {
  const stop = new AbortController();
  const restarts = churn ? churnAgents(stack, CHURN_EVERY_MS, stop.signal) : Promise.resolve([]);
  let figures: EchoFigures;
  try {
    figures = await runEchoLoad(stack.client, {
      batch: BATCH,
      inFlight: IN_FLIGHT,
      durationMs: LOAD_SECONDS * 1000,
    });
  } finally {
    stop.abort();
  }
  const done = await restarts;
  await waitForConnected(stack.client, AGENTS);
  return { figures, restarts: done };
}

const row = (name: string, s: Summary) =>
  `${name.padEnd(36)} ${String(s.n).padStart(3)}  ${ms(s.p50).padStart(11)}  ${ms(s.p95).padStart(11)}  ${ms(s.max).padStart(11)}`;

const verdict = (ok: boolean) => (ok ? 'met' : 'MISSED');

async function main(): Promise<void> {
  console.log(
    `bench:failover — ${AGENTS} agents (1 slot), heartbeat ${HEARTBEAT_MS} ms, lease ${LEASE_MS} ms; ` +
      `${KILLS} SIGKILLs, ${STOPS} SIGSTOPs, ${LOAD_SECONDS} s of echo load with and without churn, ` +
      `${STARTUPS} agent starts from source and built`,
  );
  const vars = { TM_HEARTBEAT_MS: String(HEARTBEAT_MS), TM_LEASE_MS: String(LEASE_MS) };
  const figures = await withTempStack({ agents: AGENTS, slots: 1, vars }, async (stack) => {
    const startups = await startupCpu(stack, STARTUPS);
    await waitForConnected(stack.client, AGENTS);
    await runEchoLoad(stack.client, { batch: BATCH, inFlight: IN_FLIGHT, total: 2 * BATCH });
    await failoverOnce(stack, 'SIGKILL'); // warm-up: first command, first restart
    const killed = await failovers(stack, 'SIGKILL', KILLS);
    const stopped = await failovers(stack, 'SIGSTOP', STOPS);
    // No-fault runs before and after the churn, so a drift in the machine's load evens out.
    const before = await load(stack, false);
    const churned = await load(stack, true);
    const after = await load(stack, false);
    return { startups, killed, stopped, before, churned, after };
  });
  const { startups, killed, stopped, before, churned, after } = figures;
  const minusLease = shift(stopped.total, -LEASE_MS);
  const baseline = (before.figures.tasksPerSecond + after.figures.tasksPerSecond) / 2;
  const ratio = churned.figures.tasksPerSecond / baseline;
  const restarts = summarize(churned.restarts.map((r) => r.millis));
  const restartCpu = churned.restarts.reduce((sum, r) => sum + r.cpuSeconds, 0);

  console.log(`\nagent start-up CPU (user + system, spawn → welcomed by the control plane)`);
  for (const [entry, samples] of Object.entries(startups)) {
    const s = summarize(samples);
    console.log(
      `  ${entry.padEnd(30)} median ${s.p50.toFixed(2)} CPU-s  (n ${s.n}, max ${s.max.toFixed(2)})`,
    );
  }

  console.log(
    `\n${'failover (signal → next attempt)'.padEnd(36)}   n          p50          p95          max`,
  );
  console.log(row('SIGKILL → running elsewhere', killed.total));
  console.log(row('  SIGKILL → reassigned', killed.assigned));
  console.log(row('  reassigned → running', killed.running));
  console.log(row('SIGSTOP → running elsewhere', stopped.total));
  console.log(row(`  minus the lease (${LEASE_MS} ms)`, minusLease));
  console.log(row('  SIGSTOP → reassigned', stopped.assigned));

  console.log(
    `\necho throughput (${BATCH}-task jobs, ${IN_FLIGHT} in flight, ${LOAD_SECONDS} s each)`,
  );
  const runs = [
    ['no faults (before)', before],
    [`an agent killed every ${CHURN_EVERY_MS / 1000} s`, churned],
    ['no faults (after)', after],
  ] as const;
  for (const [name, run] of runs) {
    const f = run.figures;
    console.log(
      `  ${name.padEnd(30)} ${String(f.tasksPerSecond).padStart(6)} tasks/s  (${f.succeeded} of ${f.submitted} tasks succeeded)`,
    );
  }
  console.log(
    `  ratio                          ${ratio.toFixed(2)} (churn / mean of the no-fault runs, ${Math.round(baseline)} tasks/s)`,
  );
  console.log(
    `  restarts under churn           ${restarts.n}: kill → new agent serving p50 ${ms(restarts.p50)}, max ${ms(restarts.max)}; ` +
      `${restartCpu.toFixed(1)} CPU-s to start them (of ${cpus} cores × ${LOAD_SECONDS} s)`,
  );

  const shortfalls = runs.flatMap(([, run]) => run.figures.shortfalls);
  console.log(
    `\naims: SIGKILL p95 < 200 ms: ${verdict(killed.total.p95 < 200)} (${ms(killed.total.p95)}); ` +
      `SIGSTOP p95 < lease + 1 s: ${verdict(minusLease.p95 < 1000)} (lease + ${ms(minusLease.p95)}); ` +
      `throughput ratio ≥ 0.8: ${verdict(ratio >= 0.8)} (${ratio.toFixed(2)}); ` +
      `every task done: ${verdict(shortfalls.length === 0)}`,
  );
  if (shortfalls.length > 0) {
    console.error(
      `\nLOST OR FAILED TASKS — ${shortfalls.length} job(s) did not complete every task:`,
    );
    for (const line of shortfalls) console.error(`  ${line}`);
    process.exit(1);
  }
}

/** The same summary moved by `delta` ms. */
function shift(s: Summary, delta: number): Summary {
  return {
    ...s,
    p50: s.p50 + delta,
    p95: s.p95 + delta,
    p99: s.p99 + delta,
    max: s.max + delta,
    mean: s.mean + delta,
  };
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
