/**
 * The stream part's peer: the same three scripts as one shell pipeline on this machine,
 * `producer | relay | sink`, through pipes with no network, no agents and no routing: a ceiling
 * for one producer → relay → sink chain. Their fd 3 is one shared pipe (each result is one short
 * write, so lines never mix).
 */
import { spawn } from 'node:child_process';
import {
  PRODUCER,
  RELAY,
  SINK,
  type ProducerResult,
  type ScriptResult,
  type SinkResult,
} from './dataflow-stream-scripts.ts';
import { childrenCpuSeconds, figures, type StreamFigures } from './dataflow-stream-tm.ts';

const PIPELINE = '/usr/bin/node -e "$P" | /usr/bin/node -e "$R" | /usr/bin/node -e "$S"';

export async function runPipeline(records: number, rate?: number): Promise<StreamFigures> {
  const child = spawn('/bin/sh', ['-c', PIPELINE], {
    env: {
      ...process.env,
      P: PRODUCER,
      R: RELAY,
      S: SINK,
      COUNT: String(records),
      ...(rate ? { RATE: String(rate) } : {}),
    },
    stdio: ['ignore', 'ignore', 'inherit', 'pipe'],
  });
  let text = '';
  child.stdio[3]?.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const cpuBefore = childrenCpuSeconds(process.pid);
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  if (code !== 0) throw new Error(`the shell pipeline exited with ${code}`);
  const results = text
    .split('\n')
    .filter((line) => line.startsWith('result '))
    .map((line) => JSON.parse(line.slice('result '.length)) as ScriptResult);
  const producers = results.filter((r): r is ProducerResult => r.role === 'producer');
  const sinks = results.filter((r): r is SinkResult => r.role === 'sink');
  if (sinks[0]?.count !== records)
    throw new Error(`the shell pipeline's sink got ${sinks[0]?.count} of ${records} records`);
  const tasksCpu = childrenCpuSeconds(process.pid) - cpuBefore;
  return figures(records, producers, sinks, { agentsCpu: 0, tasksCpu, controlPlaneCpu: 0 });
}
