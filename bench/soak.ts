/**
 * bench:soak: does the Scheduler's storage level off under a long run? The local stack (real
 * wrangler dev, three real agents) with a short retention takes millions of echo tasks and
 * thousands of command tasks with logs; every 10 s it prints the database size, the rows kept and
 * the throughput, and at the end compares that throughput with bench:tasks' on a fresh database.
 */
import { writeFileSync } from 'node:fs';
import type { Stack } from '../cli/local/stack.ts';
import { withTempStack } from './lib/temp-stack.ts';
import { runEchoLoad } from './lib/echo-load.ts';
import { rate } from './lib/stats.ts';
import { renderChart } from './lib/svg-chart.ts';

const ECHO_TASKS = Number(process.env.BENCH_SOAK_ECHO ?? 2_000_000);
const COMMAND_TASKS = Number(process.env.BENCH_SOAK_COMMANDS ?? 20_000);
const RETENTION_SECONDS = Number(process.env.BENCH_SOAK_RETENTION ?? 60);
const SAMPLE_MS = Number(process.env.BENCH_SOAK_SAMPLE_MS ?? 10_000);
const BASELINE_TASKS = Number(process.env.BENCH_SOAK_BASELINE ?? 20_000);
const BATCH = 1000;
const IN_FLIGHT = 4;
const COMMAND_BATCH = 100;
const LOG_LINES = 20;
const CHART = process.env.BENCH_SOAK_CHART;

/** Each command task prints LOG_LINES lines, so logs are part of what retention must remove. */
const LOGGING_COMMAND = `for i in $(seq ${LOG_LINES}); do echo "soak line $i of attempt $TM_ATTEMPT"; done`;

interface Sample {
  seconds: number;
  tasksDone: number;
  tasksPerSecond: number;
  databaseBytes: number;
  liveTasks: number;
  /** Whether the echo load was still running: the steady state is measured while it does. */
  echoRunning: boolean;
  /** Whether command tasks were still being submitted: echo alone compares with bench:tasks. */
  commandsRunning: boolean;
}

interface Storage {
  databaseBytes: number;
  liveTasks: number;
}

async function storage(stack: Stack): Promise<Storage> {
  const report = await stack.client.storage();
  return { databaseBytes: report.databaseSizeBytes, liveTasks: report.tables.tasks ?? 0 };
}

/** Command jobs of COMMAND_BATCH logging tasks, one at a time, until `total` tasks are done. */
async function runCommandLoad(stack: Stack, total: number, done: { count: number }) {
  for (let submitted = 0; submitted < total; submitted += COMMAND_BATCH) {
    const job = await stack.client.submitJob(
      {
        kind: 'command',
        command: LOGGING_COMMAND,
        workers: Math.min(COMMAND_BATCH, total - submitted),
      },
      300,
    );
    if (job.state !== 'succeeded') throw new Error(`command job ${job.id} ended ${job.state}`);
    done.count += job.counts.succeeded;
  }
}

const mb = (bytes: number) => (bytes / 1e6).toFixed(1);

function printSample(sample: Sample): void {
  const perTask = sample.liveTasks > 0 ? Math.round(sample.databaseBytes / sample.liveTasks) : 0;
  console.log(
    `${String(sample.seconds).padStart(6)} s  ${String(sample.tasksDone).padStart(9)} tasks  ` +
      `${String(sample.tasksPerSecond).padStart(6)} tasks/s  ${mb(sample.databaseBytes).padStart(7)} MB  ` +
      `${String(sample.liveTasks).padStart(8)} live tasks  ${String(perTask).padStart(6)} B/live task`,
  );
}

async function soak(stack: Stack): Promise<{ baseline: number; samples: Sample[] }> {
  const baseline = await runEchoLoad(stack.client, {
    batch: BATCH,
    inFlight: IN_FLIGHT,
    total: BASELINE_TASKS,
  });
  console.log(
    `fresh database: ${baseline.tasksPerSecond} tasks/s over ${BASELINE_TASKS} echo tasks`,
  );
  console.log(`\n  time      done           rate       database   rows kept`);
  const echo = { count: 0, running: true };
  const commands = { count: 0 };
  const started = performance.now();
  const samples: Sample[] = [];
  let last = { at: started, done: 0 };
  const sampler = setInterval(() => {
    void storage(stack).then(
      (now) => {
        const at = performance.now();
        const done = echo.count + commands.count;
        const sample = {
          seconds: Math.round((at - started) / 1000),
          tasksDone: done,
          tasksPerSecond: rate(done - last.done, at - last.at),
          echoRunning: echo.running,
          commandsRunning: commands.count < COMMAND_TASKS,
          ...now,
        };
        last = { at, done };
        samples.push(sample);
        printSample(sample);
      },
      (error: unknown) => console.log(`storage report failed: ${String(error)}`),
    );
  }, SAMPLE_MS);
  try {
    await Promise.all([
      runEchoLoad(stack.client, {
        batch: BATCH,
        inFlight: IN_FLIGHT,
        total: ECHO_TASKS,
        onJobEnd: (succeeded) => (echo.count += succeeded),
      }).then((figures) => {
        echo.running = false;
        if (figures.shortfalls.length > 0) throw new Error(figures.shortfalls.join('\n'));
      }),
      runCommandLoad(stack, COMMAND_TASKS, commands),
    ]);
    // The load is over: a retention period more shows where the size settles once it is idle.
    await new Promise((resolve) =>
      setTimeout(resolve, (RETENTION_SECONDS + (2 * SAMPLE_MS) / 1000) * 1000),
    );
  } finally {
    clearInterval(sampler);
  }
  return { baseline: baseline.tasksPerSecond, samples };
}

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;

/** Throughput once retention deletes as fast as tasks finish, and how the size moved meanwhile. */
function summarize(baseline: number, samples: Sample[]): void {
  const steady = samples.filter(
    (s) => s.echoRunning && s.seconds > RETENTION_SECONDS + SAMPLE_MS / 1000,
  );
  const half = steady.slice(0, Math.ceil(steady.length / 2));
  const rest = steady.slice(half.length);
  const peak = (list: Sample[]) => Math.max(0, ...list.map((s) => s.databaseBytes));
  const steadyRate = median(steady.map((s) => s.tasksPerSecond));
  const alone = steady.filter((s) => !s.commandsRunning);
  const perTask = median(
    steady.filter((s) => s.liveTasks > 0).map((s) => s.databaseBytes / s.liveTasks),
  );
  console.log(
    `\nsteady state (while the echo load ran, after its first ${RETENTION_SECONDS} s): ${steady.length} samples`,
  );
  console.log(
    `  throughput        median ${steadyRate} tasks/s, ${((steadyRate / baseline) * 100).toFixed(0)}% of the fresh database's ${baseline}`,
  );
  if (alone.length > 0) {
    const echoAlone = median(alone.map((s) => s.tasksPerSecond));
    console.log(
      `  echo alone        median ${echoAlone} tasks/s once the command tasks were done, ${((echoAlone / baseline) * 100).toFixed(0)}% of the fresh database's`,
    );
  } else
    console.log('  echo alone        no sample: the command tasks ran as long as the echo tasks');
  console.log(
    `  database size     peak ${mb(peak(half))} MB in its first half, ${mb(peak(rest))} MB in its second`,
  );
  console.log(`  bytes/live task   median ${Math.round(perTask)}`);
  const mostKept = Math.max(0, ...steady.map((s) => s.liveTasks));
  const done = steady.at(-1)?.tasksDone ?? 0;
  console.log(
    `  rows kept         at most ${mostKept} tasks, ${((mostKept / done) * 100).toFixed(0)}% of the ${done} done by then: ` +
      `${(mostKept / steadyRate).toFixed(0)} s of the load at its median rate, for a retention of ${RETENTION_SECONDS} s`,
  );
  const last = samples.at(-1);
  if (last)
    console.log(
      `  at the end        ${mb(last.databaseBytes)} MB, ${last.liveTasks} live tasks, ${last.tasksDone} tasks done`,
    );
}

function chartOf(samples: Sample[]): string {
  return renderChart({
    title: `bench:soak, retention ${RETENTION_SECONDS} s: Scheduler storage under a long load`,
    xLabel: 'seconds',
    panels: [
      {
        title: 'database size',
        unit: 'MB',
        points: samples.map((s) => [s.seconds, s.databaseBytes / 1e6]),
      },
      {
        title: 'tasks finished',
        unit: 'tasks',
        points: samples.map((s) => [s.seconds, s.tasksDone]),
      },
      {
        title: 'throughput',
        unit: 'tasks/s',
        points: samples.map((s) => [s.seconds, s.tasksPerSecond]),
      },
    ],
  });
}

async function main(): Promise<void> {
  console.log(
    `bench:soak — ${ECHO_TASKS} echo tasks and ${COMMAND_TASKS} command tasks of ${LOG_LINES} log lines, ` +
      `retention ${RETENTION_SECONDS} s, a sample every ${SAMPLE_MS / 1000} s`,
  );
  const { baseline, samples } = await withTempStack(
    { agents: 3, vars: { TM_RETENTION_SECONDS: String(RETENTION_SECONDS) } },
    soak,
  );
  summarize(baseline, samples);
  if (CHART) {
    writeFileSync(CHART, chartOf(samples));
    console.log(`chart written to ${CHART}`);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
