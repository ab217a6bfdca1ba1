/**
 * Long-running child processes in their own process group, with their output in a log file, and
 * what this process has started of them, so that whatever stops it can stop them all.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import { PRIVATE_UMASK } from './private-files.ts';

export interface Child {
  process: ChildProcess;
  alive(): boolean;
  /** Signals the whole process group. */
  signal(signal: NodeJS.Signals): void;
  /** SIGTERM, again at half `graceMs`, then SIGKILL; resolves when the process has exited. */
  stop(graceMs?: number): Promise<void>;
  exited: Promise<number | null>;
}

export function startChild(
  command: string,
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; logFile: string },
): Child {
  if (closed) throw new Error(`not starting ${command}: the local stack is stopping`);
  const out = openSync(options.logFile, 'a', 0o600);
  // Through sh for its umask (node's spawn has none): what the child writes (wrangler's SQLite,
  // agent keys, caches, logs) is its owner's only. `exec` keeps the pid, so the group is the same.
  const umask = PRIVATE_UMASK.toString(8).padStart(3, '0');
  const child = spawn('/bin/sh', ['-c', `umask ${umask} && exec "$@"`, 'sh', command, ...args], {
    cwd: options.cwd,
    env: options.env,
    detached: true,
    stdio: ['ignore', out, out],
  });
  closeSync(out);
  let running = true;
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => {
      running = false;
      started.delete(handle);
      resolve(code);
    });
  });
  const signalGroup = (sig: NodeJS.Signals) => {
    if (child.pid === undefined) return;
    try {
      process.kill(-child.pid, sig);
    } catch {
      // Already gone.
    }
  };
  const signal = (sig: NodeJS.Signals) => {
    if (running) signalGroup(sig);
  };
  const handle: Child = {
    process: child,
    alive: () => running,
    signal,
    exited,
    async stop(graceMs = 5000) {
      if (!running) return;
      signal('SIGTERM');
      // A second SIGTERM halfway makes an agent kill its tasks' process groups and leave; a
      // SIGKILL would leave them running, as no exit handler sees it.
      const again = setTimeout(() => signal('SIGTERM'), graceMs / 2);
      const timer = setTimeout(() => signal('SIGKILL'), graceMs);
      await exited;
      clearTimeout(again);
      clearTimeout(timer);
      // Children that outlived their parent (workerd under wrangler) go with the group.
      signalGroup('SIGKILL');
    },
  };
  started.add(handle);
  return handle;
}

/** The children of this process that have not exited yet. */
const started = new Set<Child>();
let closed = false;

/** From now on startChild refuses: the stack is stopping, so nothing new may start. */
export function refuseNewChildren(): void {
  closed = true;
}

/** Stops every child still running (each as `stop` does), all at once. */
export async function stopAllChildren(graceMs = 5000): Promise<void> {
  await Promise.all([...started].map((child) => child.stop(graceMs)));
}

/** SIGKILLs every child's process group at once; synchronous, so safe in an 'exit' handler. */
export function killAllChildren(): number {
  const count = started.size;
  for (const child of started) child.signal('SIGKILL');
  return count;
}
