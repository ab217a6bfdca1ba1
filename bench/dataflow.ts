/**
 * bench:dataflow: scheduling overhead of dataflow DAGs of echo (no-op) tasks through the local
 * stack (real wrangler dev, three real agents): a fan-out, a chain and a diamond of ~1,000 tasks,
 * as many stages and (fan-out, diamond) as one wide stage; the same task graphs on Dask
 * distributed for comparison; and, for the median run of each, where the time went. Then the
 * stream part (dataflow-stream.ts): records/s through a stream group. BENCH_DATAFLOW_PART=dag or
 * stream runs one part alone.
 */
import { availableParallelism } from 'node:os';
import { waitForConnected, type Stack } from '../cli/local/stack.ts';
import { withTempStack } from './lib/temp-stack.ts';
import { allDags, diamond, type Dag } from './lib/dataflow-dags.ts';
import { percentile, rate } from './lib/stats.ts';
import { runTmDag, type TmRun } from './dataflow-tm.ts';
import { chainScaling, profileDag } from './dataflow-cpu.ts';
import { daskInterpreter, runDask, type DaskFigures } from './dataflow-dask.ts';
import { runStreamBench } from './dataflow-stream.ts';

const SIZE = Number(process.env.BENCH_DATAFLOW_TASKS ?? 1000);
const REPEATS = Number(process.env.BENCH_REPEATS ?? 3);
const AGENTS = 3;
/** The agents' default slots (available CPUs); echo tasks use none, Dask's no-ops a thread each. */
const DASK_THREADS = Number(process.env.BENCH_DASK_THREADS ?? availableParallelism());
const ONLY = process.env.BENCH_DATAFLOW_DAGS?.split(',').map((s) => s.trim());
const WITH_DASK = process.env.BENCH_DASK !== '0';
const PROFILE = process.env.BENCH_DATAFLOW_PROFILE === '1';
/** Which part runs: dag (the DAGs of echo tasks), stream (bench/dataflow-stream.ts) or all. */
const PART = process.env.BENCH_DATAFLOW_PART ?? 'all';

const median = (values: number[]) =>
  percentile(
    [...values].sort((a, b) => a - b),
    50,
  );
const seconds = (ms: number) => (ms / 1000).toFixed(2);
const pad = (value: string | number, width: number) => String(value).padStart(width);

/** The run whose wall time is the median, for its profile. */
const medianRun = (runs: TmRun[]) => {
  const sorted = [...runs].sort((a, b) => a.wallMs - b.wallMs);
  return sorted[Math.ceil(sorted.length / 2) - 1]!;
};

/** A run cut short (a hot reload of wrangler dev drops the held reply) is run again. */
async function runAgain(stack: Stack, dag: Dag): Promise<TmRun> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await runTmDag(stack, dag);
    } catch (error) {
      if (attempt >= 3) throw error;
      console.log(`  TM ${dag.name}: ${(error as Error).message}; running it again`);
      await new Promise((resolve) => setTimeout(resolve, 5000));
      await waitForConnected(stack.client, AGENTS, 60_000);
    }
  }
}

async function runTm(dags: Dag[]): Promise<Map<string, TmRun[]>> {
  return withTempStack({ agents: AGENTS }, async (stack) => {
    for (const warm of allDags(20)) await runAgain(stack, warm);
    const runs = new Map<string, TmRun[]>();
    for (const dag of dags) {
      for (let r = 0; r < REPEATS; r++) {
        const run = await runAgain(stack, dag);
        runs.set(dag.name, [...(runs.get(dag.name) ?? []), run]);
        console.log(`  TM ${dag.name} #${r + 1}: ${seconds(run.wallMs)} s`);
      }
    }
    if (PROFILE) await lookInside(stack, dags);
    return runs;
  });
}

/** After the timed runs, so that profiling slows none of them. */
async function lookInside(stack: Stack, dags: Dag[]): Promise<void> {
  await chainScaling(stack, [SIZE / 8, SIZE / 4, SIZE / 2, SIZE].map(Math.round));
  for (const dag of dags) await profileDag(stack, dag);
}

function runPeer(dags: Dag[]): DaskFigures | null {
  if (!WITH_DASK) return null;
  const python = daskInterpreter();
  if (!python) return null;
  const figures = runDask(python, {
    workers: AGENTS,
    threadsPerWorker: DASK_THREADS,
    repeats: REPEATS,
    warmup: diamond(50),
    graphs: dags.filter((dag) => !dag.sameTasksAs),
  });
  for (const [name, runs] of Object.entries(figures.seconds))
    console.log(`  Dask ${name}: ${runs.map((s) => s.toFixed(2)).join(', ')} s`);
  return figures;
}

const daskSeconds = (dask: DaskFigures | null, dag: Dag) => {
  const runs = dask?.seconds[dag.sameTasksAs ?? dag.name];
  return runs ? median(runs) : NaN;
};

function printTable(dags: Dag[], tm: Map<string, TmRun[]>, dask: DaskFigures | null): void {
  console.log(
    `\n${'DAG'.padEnd(13)} ${'shape'.padEnd(34)} ${pad('tasks', 5)} ${pad('edges', 5)} ${pad('TM s', 7)} ${pad('(DO s)', 7)} ${pad('tasks/s', 7)} ${pad('ms/edge', 7)} ${pad('Dask s', 7)} ${pad('Dask/TM', 7)}`,
  );
  for (const dag of dags) {
    const wall = median(tm.get(dag.name)!.map((r) => r.wallMs));
    const server = median(tm.get(dag.name)!.map((r) => r.serverMs));
    const peer = daskSeconds(dask, dag);
    console.log(
      `${dag.name.padEnd(13)} ${dag.shape.padEnd(34)} ${pad(dag.tasks, 5)} ${pad(dag.edges, 5)} ${pad(seconds(wall), 7)} ${pad(seconds(server), 7)} ${pad(rate(dag.tasks, wall), 7)} ${pad((wall / dag.edges).toFixed(2), 7)} ${pad(peer.toFixed(2), 7)} ${pad((peer / (wall / 1000)).toFixed(2), 7)}`,
    );
  }
  console.log(
    "(medians; TM s: client POST → reply showing the end; DO s: the job's createdAt → finishedAt; ms/edge: TM s / task edges, per hop for the chain)",
  );
}

function printVerdict(dags: Dag[], tm: Map<string, TmRun[]>, dask: DaskFigures | null): void {
  if (!dask) return;
  const ratio = (dag: Dag) =>
    daskSeconds(dask, dag) / (median(tm.get(dag.name)!.map((r) => r.wallMs)) / 1000);
  const met = dags.filter((dag) => ratio(dag) >= 3).map((dag) => dag.name);
  const missed = dags.filter((dag) => ratio(dag) < 3).map((dag) => dag.name);
  console.log(
    `aim (a ${SIZE}-task DAG at least 3× faster than Dask): met by ${met.join(', ') || 'none'}; not by ${missed.join(', ') || 'none'}`,
  );
  console.log(
    `Dask ${dask.distributed} (Python ${dask.python}, ${dask.interpreter}): LocalCluster of ${AGENTS} worker processes × ${DASK_THREADS} threads, start-up ${dask.startupSeconds.toFixed(2)} s (not in the figures)`,
  );
}

function printProfiles(dags: Dag[], tm: Map<string, TmRun[]>): void {
  for (const dag of dags) {
    const run = medianRun(tm.get(dag.name)!);
    console.log(`\nwhere the time went: ${dag.name} (its median run, ${seconds(run.wallMs)} s)`);
    for (const [what, value] of run.profile.phases.filter(([, v]) => Number.isFinite(v)))
      console.log(`  ${what.padEnd(62)} ${pad(Math.round(value), 7)}`);
    console.log(
      `  ${'CPU s: control plane (wrangler + workerd) / 3 agents'.padEnd(62)} ${run.controlPlaneCpu.toFixed(2)} / ${run.agentsCpu.toFixed(2)}`,
    );
  }
}

async function main(): Promise<void> {
  if (PART !== 'stream') await runDags();
  if (PART !== 'dag') await runStreamBench();
}

async function runDags(): Promise<void> {
  const dags = allDags(SIZE).filter((dag) => !ONLY || ONLY.includes(dag.name));
  console.log(
    `bench:dataflow — DAGs of ${SIZE} echo tasks, ${REPEATS} runs each (median), ${AGENTS} agents; then Dask`,
  );
  const tm = await runTm(dags);
  const dask = runPeer(dags);
  printTable(dags, tm, dask);
  printVerdict(dags, tm, dask);
  printProfiles(dags, tm);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
