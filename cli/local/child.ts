/** Long-running child processes in their own process group, with their output in a log file. */
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';

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
  const out = openSync(options.logFile, 'a');
  const child = spawn(command, args, {
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
      resolve(code);
    });
  });
  const signal = (sig: NodeJS.Signals) => {
    if (!running || child.pid === undefined) return;
    try {
      process.kill(-child.pid, sig);
    } catch {
      // Already gone.
    }
  };
  return {
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
      signal('SIGKILL');
    },
  };
}
