/**
 * The TM side of bench:dataflow's stream part: one producer → relay → sink stream group as a
 * dataflow job, its records counted at the sink, timed from the producers' first record to the
 * sink's last, with the CPU the agents (their own, and their tasks') and the control plane spent.
 */
import { readFileSync } from 'node:fs';
import type { DataflowJobRequest, JobView } from '../protocol/index.ts';
import type { Stack } from '../cli/local/stack.ts';
import { cpuSeconds } from './lib/process-cpu.ts';
import { treeCpuSeconds } from './lib/process-tree-cpu.ts';
import {
  PRODUCER,
  RELAY,
  SINK,
  type ProducerResult,
  type RelayResult,
  type SinkResult,
} from './dataflow-stream-scripts.ts';

const NODE = '/usr/bin/node';
const WAIT_SECONDS = 300;
const JOB_TIMEOUT_MS = 10 * 60_000;
const TICKS_PER_SECOND = 100;

export interface StreamShape {
  name: string;
  /** Instances of producer, relay and sink. */
  parallelism: [number, number, number];
  /** The relay's key (a shuffle by "k", 16 values); none: round-robin. */
  key?: string;
  /** Records/s over all producers; none: flat out. */
  rate?: number;
}

export interface StreamFigures {
  records: number;
  /** Producers' first record → the sink's last. */
  endToEndMs: number;
  /** The sink's first record → its last. */
  atSinkMs: number;
  latency: { p50: number; p95: number; max: number; samples: number };
  /** CPU seconds: the agents' own processes, their tasks (NaN: not seen), the control plane. */
  agentsCpu: number;
  tasksCpu: number;
  controlPlaneCpu: number;
}

/** utime + stime of the reaped children of `pid` (its ended tasks), in seconds. */
export function childrenCpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[13]) + Number(fields[14])) / TICKS_PER_SECOND;
}

function cpu(stack: Stack) {
  const sum = (f: (pid: number | undefined) => number) =>
    stack.agents.reduce((total, agent) => total + f(agent.process.pid), 0);
  return {
    agents: sum(cpuSeconds),
    // Tasks run under bwrap, whose children are not reaped by the agent: their CPU is not seen here.
    tasks: NaN,
    controlPlane: treeCpuSeconds(stack.controlPlane.child.process.pid),
  };
}

export function streamStages(records: number, shape: StreamShape): DataflowJobRequest['stages'] {
  const [producers, relays, sinks] = shape.parallelism;
  const perProducer = Math.ceil(records / producers);
  const rate: Record<string, string> = shape.rate ? { RATE: String(shape.rate / producers) } : {};
  return [
    {
      name: 'produce',
      kind: 'command',
      command: [NODE, '-e', PRODUCER],
      parallelism: producers,
      env: { COUNT: String(perProducer), ...rate },
    },
    {
      name: 'relay',
      kind: 'command',
      command: [NODE, '-e', RELAY],
      parallelism: relays,
      streamFrom: ['produce'],
      ...(shape.key ? { key: shape.key } : {}),
    },
    {
      name: 'sink',
      kind: 'command',
      command: [NODE, '-e', SINK],
      parallelism: sinks,
      streamFrom: ['relay'],
    },
  ];
}

const resultsOf = <T>(job: JobView, stage: string): T[] =>
  (job.tasks ?? []).filter((t) => t.stage?.name === stage).map((t) => t.result as T);

export async function runTmStream(
  stack: Stack,
  records: number,
  shape: StreamShape,
): Promise<StreamFigures> {
  const stages = streamStages(records, shape);
  const expected = Math.ceil(records / shape.parallelism[0]) * shape.parallelism[0];
  const before = cpu(stack);
  let job = await stack.client.submitJob(
    { kind: 'dataflow', name: `stream-${shape.name}`, stages },
    WAIT_SECONDS,
  );
  if (!job.finishedAt) job = await stack.client.waitJob(job.id, JOB_TIMEOUT_MS, 100);
  const after = cpu(stack);
  if (job.state !== 'succeeded')
    throw new Error(`stream ${shape.name}: job ${job.id} is ${job.state} (${job.error ?? ''})`);
  job = await stack.client.getJob(job.id);
  const producers = resultsOf<ProducerResult>(job, 'produce');
  const relays = resultsOf<RelayResult>(job, 'relay');
  const sinks = resultsOf<SinkResult>(job, 'sink');
  const received = sinks.reduce((sum, s) => sum + s.count, 0);
  const relayed = relays.reduce((sum, r) => sum + r.count, 0);
  if (received !== expected || relayed !== expected)
    throw new Error(
      `stream ${shape.name}: ${expected} records sent, ${relayed} relayed, ${received} received`,
    );
  return figures(expected, producers, sinks, {
    agentsCpu: after.agents - before.agents,
    tasksCpu: after.tasks - before.tasks,
    controlPlaneCpu: after.controlPlane - before.controlPlane,
  });
}

/** The run's figures from its scripts' results (several sinks: the earliest first, latest last). */
export function figures(
  records: number,
  producers: ProducerResult[],
  sinks: SinkResult[],
  cpuFigures: Pick<StreamFigures, 'agentsCpu' | 'tasksCpu' | 'controlPlaneCpu'>,
): StreamFigures {
  const start = Math.min(...producers.map((p) => p.first));
  const first = Math.min(...sinks.map((s) => s.first));
  const last = Math.max(...sinks.map((s) => s.last));
  const worst = (pick: (s: SinkResult) => number | null) =>
    Math.max(...sinks.map((s) => pick(s) ?? NaN));
  return {
    records,
    endToEndMs: last - start,
    atSinkMs: last - first,
    latency: {
      p50: worst((s) => s.p50),
      p95: worst((s) => s.p95),
      max: worst((s) => s.max),
      samples: sinks.reduce((sum, s) => sum + s.samples, 0),
    },
    ...cpuFigures,
  };
}
