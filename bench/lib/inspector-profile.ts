/**
 * A CPU profile of the Worker and its Durable Object under wrangler dev, taken through the
 * DevTools inspector it serves (`--inspector-port`), summed by function: where the isolate's CPU
 * goes, read from the outside.
 */
import { readFileSync } from 'node:fs';
import WebSocket from 'ws';
import { descendants } from './process-tree-cpu.ts';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** The `--inspector-port` of the wrangler process under `pid`. */
export function inspectorPort(pid: number): number {
  for (const p of descendants(pid)) {
    const args = readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0');
    const at = args.indexOf('--inspector-port');
    if (at >= 0) return Number(args[at + 1]);
  }
  throw new Error(`no --inspector-port under process ${pid}`);
}

/** A DevTools session on the Worker's isolate: calls by method, answers by id. */
async function connect(port: number) {
  const targets = (await (await fetch(`http://127.0.0.1:${port}/json`)).json()) as {
    webSocketDebuggerUrl: string;
  }[];
  const url = targets[0]?.webSocketDebuggerUrl;
  if (!url) throw new Error(`the inspector on port ${port} lists no target`);
  const socket = new WebSocket(url);
  await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
  let next = 1;
  const pending = new Map<number, (result: unknown) => void>();
  socket.on('message', (data) => {
    const message = JSON.parse(String(data)) as { id?: number; result?: unknown };
    if (message.id !== undefined) pending.get(message.id)?.(message.result);
  });
  const call = (method: string, params: object = {}) =>
    new Promise<unknown>((resolve) => {
      const id = next++;
      pending.set(id, resolve);
      socket.send(JSON.stringify({ id, method, params }));
    });
  return { call, close: () => socket.close() };
}

/** Profiles the isolate while `body` runs. */
export async function profileWhile(port: number, body: () => Promise<void>): Promise<CpuProfile> {
  const session = await connect(port);
  try {
    await session.call('Profiler.enable');
    await session.call('Profiler.setSamplingInterval', { interval: 200 });
    await session.call('Profiler.start');
    await body();
    const stopped = (await session.call('Profiler.stop')) as { profile: CpuProfile };
    return stopped.profile;
  } finally {
    session.close();
  }
}

const label = (node: ProfileNode) => {
  const file = node.callFrame.url.split('/').slice(-2).join('/');
  return `${node.callFrame.functionName || '(anonymous)'} ${file}:${node.callFrame.lineNumber + 1}`;
};

export interface FunctionCpu {
  name: string;
  selfMs: number;
  totalMs: number;
}

/** Milliseconds of CPU by function: its own (self) and with what it calls (total), largest first. */
export function byFunction(profile: CpuProfile): FunctionCpu[] {
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) =>
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000),
  );
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const totals = new Map<number, number>();
  const subtree = (id: number): number => {
    const known = totals.get(id);
    if (known !== undefined) return known;
    const total =
      (self.get(id) ?? 0) + (nodes.get(id)?.children ?? []).reduce((s, c) => s + subtree(c), 0);
    totals.set(id, total);
    return total;
  };
  const rows = new Map<string, { selfMs: number; totalMs: number }>();
  const walk = (id: number, onStack: Set<string>) => {
    const node = nodes.get(id)!;
    const name = label(node);
    const row = rows.get(name) ?? { selfMs: 0, totalMs: 0 };
    row.selfMs += self.get(id) ?? 0;
    // A recursive function's time counts once, at its outermost frame.
    if (!onStack.has(name)) row.totalMs += subtree(id);
    rows.set(name, row);
    for (const child of node.children ?? []) walk(child, new Set(onStack).add(name));
  };
  walk(profile.nodes[0]!.id, new Set());
  return [...rows].map(([name, row]) => ({ name, ...row })).sort((a, b) => b.totalMs - a.totalMs);
}
