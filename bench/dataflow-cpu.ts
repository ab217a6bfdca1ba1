/**
 * bench:dataflow's look inside (BENCH_DATAFLOW_PROFILE=1): how the chain's time per hop grows with
 * its length, and a CPU profile of the Worker isolate (Durable Object included) over one run of
 * each DAG, taken through wrangler dev's inspector after the timed runs.
 */
import type { Stack } from '../cli/local/stack.ts';
import { chain, type Dag } from './lib/dataflow-dags.ts';
import {
  byFunction,
  inspectorPort,
  profileWhile,
  type FunctionCpu,
} from './lib/inspector-profile.ts';
import { runTmDag } from './dataflow-tm.ts';

const TOP = Number(process.env.BENCH_PROFILE_TOP ?? 25);
const SELF_TOP = 12;
const pad = (value: string | number, width: number) => String(value).padStart(width);

/** One chain per length: a per-hop time that grows with the length is work per hop over all stages. */
export async function chainScaling(stack: Stack, lengths: number[]): Promise<void> {
  console.log('\nchain length vs time per hop (one run each)');
  for (const length of lengths) {
    const run = await runTmDag(stack, chain(length));
    const hops = Math.max(1, length - 1);
    console.log(
      `  ${pad(length, 5)} stages: ${(run.wallMs / 1000).toFixed(2)} s, ${(run.wallMs / hops).toFixed(1)} ms/hop, control plane CPU ${((run.controlPlaneCpu * 1000) / hops).toFixed(1)} ms/hop`,
    );
  }
}

function printRows(title: string, rows: FunctionCpu[]): void {
  console.log(
    `  ${'total ms'.padStart(8)} ${'self ms'.padStart(8)}  function (bundle line), ${title}`,
  );
  for (const row of rows)
    console.log(
      `  ${pad(row.totalMs.toFixed(0), 8)} ${pad(row.selfMs.toFixed(0), 8)}  ${row.name}`,
    );
}

/** Profiles one run of `dag` and prints the functions that took the most CPU, with what they call. */
export async function profileDag(stack: Stack, dag: Dag): Promise<void> {
  const port = inspectorPort(stack.controlPlane.child.process.pid!);
  let wallMs = 0;
  const profile = await profileWhile(port, async () => {
    wallMs = (await runTmDag(stack, dag)).wallMs;
  });
  console.log(
    `\nCPU profile of the Worker isolate: ${dag.name}, one run of ${(wallMs / 1000).toFixed(2)} s (profiled, so slower)`,
  );
  const rows = byFunction(profile);
  const bySelf = [...rows].sort((a, b) => b.selfMs - a.selfMs).slice(0, SELF_TOP);
  printRows('with what they call', rows.slice(0, TOP));
  printRows('by their own time', bySelf);
}
