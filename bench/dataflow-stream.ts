/**
 * bench:dataflow's stream part (BENCH_DATAFLOW_PART=stream runs it alone): small records
 * (~80 bytes of JSON) through a producer → relay → sink stream group on three real agents,
 * records/s from the producers' first record to the sink's last, latency sampled at the sink,
 * and the CPU of the agents; beside it, the same three scripts as one shell pipeline on this
 * machine (a ceiling: pipes only). The aim: at least 200,000 records/s end to end.
 */
import { waitForConnected, type Stack } from '../cli/local/stack.ts';
import { withTempStack } from './lib/temp-stack.ts';
import { percentile } from './lib/stats.ts';
import { runTmStream, type StreamFigures, type StreamShape } from './dataflow-stream-tm.ts';
import { runPipeline } from './dataflow-stream-peer.ts';

const RECORDS = Number(process.env.BENCH_STREAM_RECORDS ?? 2_000_000);
const REPEATS = Number(process.env.BENCH_REPEATS ?? 3);
/** Records/s of the paced run, whose latency is not that of full buffers. */
const PACED_RATE = Number(process.env.BENCH_STREAM_PACED_RATE ?? 50_000);
const AGENTS = 3;
const AIM = 200_000;

const SHAPES: StreamShape[] = [
  { name: '1/1/1', parallelism: [1, 1, 1] },
  { name: '2/2/1', parallelism: [2, 2, 1] },
  { name: '2/2/1 keyed', parallelism: [2, 2, 1], key: 'k' },
];
const ONLY = process.env.BENCH_STREAM_SHAPES?.split(',').map((s) => s.trim());

const median = (values: number[]) =>
  percentile(
    [...values].sort((a, b) => a - b),
    50,
  );
const perSecond = (records: number, ms: number) => Math.round((records * 1000) / ms);
const pad = (value: string | number, width: number) => String(value).padStart(width);

/** A run cut short (wrangler dev reloading drops the held reply) is run again. */
async function runAgain(stack: Stack, records: number, shape: StreamShape) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await runTmStream(stack, records, shape);
    } catch (error) {
      if (attempt >= 3) throw error;
      console.log(`  TM ${shape.name}: ${(error as Error).message}; running it again`);
      await new Promise((resolve) => setTimeout(resolve, 5000));
      await waitForConnected(stack.client, AGENTS, 60_000);
    }
  }
}

function line(name: string, runs: StreamFigures[]): string {
  const mid = [...runs].sort((a, b) => a.endToEndMs - b.endToEndMs)[Math.floor(runs.length / 2)]!;
  const wall = mid.endToEndMs / 1000;
  const rate = perSecond(mid.records, mid.endToEndMs);
  const atSink = perSecond(mid.records, mid.atSinkMs);
  const cores = (seconds: number) => (Number.isFinite(seconds) ? (seconds / wall).toFixed(2) : '-');
  return `${name.padEnd(24)} ${pad(rate, 9)} ${pad(atSink, 9)} ${pad(mid.latency.p50, 6)} ${pad(mid.latency.p95, 6)} ${pad(cores(mid.agentsCpu), 7)} ${pad(cores(mid.tasksCpu), 7)} ${pad(cores(mid.controlPlaneCpu), 7)}  (runs: ${runs.map((r) => perSecond(r.records, r.endToEndMs)).join(', ')})`;
}

export async function runStreamBench(): Promise<void> {
  const shapes = SHAPES.filter((shape) => !ONLY || ONLY.includes(shape.name));
  console.log(
    `\nbench:dataflow streams — ${RECORDS} records of ~80 bytes, producer → relay → sink on ${AGENTS} agents, ${REPEATS} runs each (median); then the shell pipeline`,
  );
  const rows: [string, StreamFigures[]][] = [];
  await withTempStack({ agents: AGENTS, slots: 3 }, async (stack) => {
    await runAgain(stack, 20_000, SHAPES[1]!);
    for (const shape of shapes) {
      const runs: StreamFigures[] = [];
      for (let r = 0; r < REPEATS; r++) {
        runs.push(await runAgain(stack, RECORDS, shape));
        console.log(
          `  TM ${shape.name} #${r + 1}: ${perSecond(RECORDS, runs.at(-1)!.endToEndMs)} records/s`,
        );
      }
      rows.push([`TM ${shape.name}`, runs]);
    }
    const paced = Math.round(PACED_RATE * 5);
    rows.push([
      `TM 2/2/1 at ${PACED_RATE}/s`,
      [await runAgain(stack, paced, { name: 'paced', parallelism: [2, 2, 1], rate: PACED_RATE })],
    ]);
  });
  const pipes: StreamFigures[] = [];
  for (let r = 0; r < REPEATS; r++) pipes.push(await runPipeline(RECORDS));
  rows.push(['shell pipeline 1/1/1', pipes]);
  rows.push([`shell pipeline at ${PACED_RATE}/s`, [await runPipeline(PACED_RATE * 5, PACED_RATE)]]);
  console.log(
    `\n${'run'.padEnd(24)} ${pad('rec/s', 9)} ${pad('at sink', 9)} ${pad('p50 ms', 6)} ${pad('p95 ms', 6)} ${pad('agents', 7)} ${pad('tasks', 7)} ${pad('control', 7)}`,
  );
  for (const [name, runs] of rows) console.log(line(name, runs));
  console.log(
    "(medians; rec/s: producers' first record → sink's last; at sink: sink's first → last; latency: now − the record's batch time, one sample per sink read; CPU in cores (CPU s / wall s): agents' own processes, their tasks (the shell pipeline's only), the control plane)",
  );
  const best = Math.max(
    ...rows
      .filter(([name]) => name.startsWith('TM') && !name.includes('/s'))
      .map(([, runs]) => median(runs.map((r) => perSecond(r.records, r.endToEndMs)))),
  );
  console.log(
    `aim (≥ ${AIM} records/s end to end): ${best >= AIM ? 'met' : 'not met'} (best ${best})`,
  );
}
