/** The command executor: runs a shell line or an argv in its own process group, to its end. */
import { spawn } from 'node:child_process';
import type { ChildProcessByStdio } from 'node:child_process';
import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import type { LogStream } from '../../protocol/index.ts';
import { LogBuffer } from '../log-buffer.ts';
import { signalGroup, trackGroup, untrackGroup } from '../process-groups.ts';
import { failure } from '../task-outcome.ts';
import type { CommandSpec, Executor, TaskContext, TaskOutcome } from '../task-outcome.ts';
import { resolveTaskDir } from '../workdir.ts';

export interface CommandOptions {
  /** Absolute work dir; a task's `path` resolves inside it. */
  workDir: string;
  /** This agent's address, given to tasks as TM_WORKER_ADDRESS. */
  address: string;
  /** Time between SIGTERM and SIGKILL when a task is cancelled or times out. */
  killGraceMs: number;
  /** False with --no-commands: every command task is refused. */
  acceptsCommands: boolean;
  /** Environment tasks inherit; default: the agent's own, always without TM_JOIN_TOKEN. */
  baseEnv?: NodeJS.ProcessEnv;
}

export const NO_COMMANDS_MESSAGE = 'this agent runs no command tasks (--no-commands)';
/** How long to wait for the pipes after the process exited, in case a runaway holds them open. */
const PIPE_DRAIN_MS = 2000;
const MAX_TIMER_MS = 2 ** 31 - 1;

type TaskProcess = ChildProcessByStdio<null, Readable, Readable>;

export function commandExecutor(options: CommandOptions): Executor<CommandSpec> {
  return (task) => runCommand(task, options);
}

async function runCommand(
  task: TaskContext<CommandSpec>,
  options: CommandOptions,
): Promise<TaskOutcome> {
  if (!options.acceptsCommands) {
    return failure('refused', NO_COMMANDS_MESSAGE, { nonRetryable: true });
  }
  const dir = await resolveTaskDir(options.workDir, task.spec.path);
  if (!dir.ok) return failure('refused', dir.message, { nonRetryable: true });
  if (task.signal.aborted) return failure('cancelled', 'cancelled before it started');

  const [file, args] = programOf(task.spec.command);
  let child: TaskProcess;
  try {
    // detached: the task leads its own process group, so one signal reaches its whole tree.
    child = spawn(file, args, {
      cwd: dir.dir,
      env: taskEnv(task, options),
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (error) {
    // Synchronous spawn errors are argument errors (e.g. a NUL byte): no retry will fix them.
    return failure('spawn', `cannot start ${file}: ${messageOf(error)}`, { nonRetryable: true });
  }
  return supervise(child, file, task, options.killGraceMs);
}

/** A shell line runs under `/bin/sh -c`; an argv runs as is, with no shell to interpret it. */
function programOf(command: CommandSpec['command']): [string, string[]] {
  if (typeof command === 'string') return ['/bin/sh', ['-c', command]];
  const [program = '', ...args] = command;
  return [program, args];
}

function taskEnv(task: TaskContext<CommandSpec>, options: CommandOptions): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(options.baseEnv ?? process.env)) {
    // The join token is the agent's credential; tasks must not inherit it.
    if (name !== 'TM_JOIN_TOKEN') env[name] = value;
  }
  return {
    ...env,
    ...task.spec.env,
    TM_TASK_ID: task.assignment.taskId,
    TM_JOB_ID: task.assignment.jobId,
    TM_ATTEMPT: String(task.assignment.attempt),
    TM_WORKER_ADDRESS: options.address,
  };
}

/** Streams the child's output, enforces timeout and cancel, and resolves once with its outcome. */
function supervise(
  child: TaskProcess,
  file: string,
  task: TaskContext<CommandSpec>,
  killGraceMs: number,
): Promise<TaskOutcome> {
  return new Promise((resolve) => {
    const pid = child.pid;
    const logs = new LogBuffer((chunks) => task.log(chunks));
    let stopping: TaskOutcome | null = null;
    let exit: Exit | null = null;
    let spawnError: Error | null = null;
    let settled = false;
    const timers = new Set<NodeJS.Timeout>();
    const later = (ms: number, run: () => void) =>
      timers.add(setTimeout(run, Math.min(ms, MAX_TIMER_MS)));

    if (pid !== undefined) {
      trackGroup(pid);
      task.started();
    }
    streamInto(child.stdout, 'stdout', logs);
    streamInto(child.stderr, 'stderr', logs);

    /** SIGTERM the group, SIGKILL it after the grace period; the outcome is decided now. */
    const stop = (outcome: TaskOutcome) => {
      if (stopping !== null || exit !== null || pid === undefined) return;
      stopping = outcome;
      signalGroup(pid, 'SIGTERM');
      later(killGraceMs, () => signalGroup(pid, 'SIGKILL'));
    };
    const onAbort = () => stop(failure('cancelled', 'cancelled'));
    task.signal.addEventListener('abort', onAbort, { once: true });
    if (task.signal.aborted) onAbort();
    const timeoutSeconds = task.spec.timeoutSeconds;
    if (timeoutSeconds !== undefined) {
      const message = `timed out after ${timeoutSeconds}s`;
      later(timeoutSeconds * 1000, () => stop(failure('timeout', message)));
    }

    child.on('error', (error) => {
      // After a successful spawn an 'error' is only a failed kill(); the 'close' still comes.
      if (pid !== undefined) return;
      spawnError = error;
      settle();
    });
    child.on('exit', (code, signal) => {
      exit = { code, signal };
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      // The leader is gone; what it left in its group goes too, so no orphan outlives the task.
      if (pid !== undefined) signalGroup(pid, 'SIGKILL');
      // A process that left the group may still hold the pipes: stop waiting for them soon.
      later(PIPE_DRAIN_MS, () => {
        child.stdout.destroy();
        child.stderr.destroy();
      });
    });
    child.on('close', (code, signal) => {
      exit ??= { code, signal };
      // A failed spawn also closes its pipes; its 'error' (ENOENT, EACCES) is the real news.
      if (pid === undefined) setImmediate(settle);
      else settle();
    });

    function settle() {
      if (settled) return;
      settled = true;
      for (const timer of timers) clearTimeout(timer);
      task.signal.removeEventListener('abort', onAbort);
      if (pid !== undefined) untrackGroup(pid);
      logs.flush();
      if (spawnError !== null) {
        resolve(failure('spawn', `cannot start ${file}: ${spawnError.message}`));
      } else if (stopping !== null) {
        resolve(stopping);
      } else {
        resolve(exitOutcome(exit));
      }
    }
  });
}

type Exit = { code: number | null; signal: NodeJS.Signals | null };

function exitOutcome(exit: Exit | null): TaskOutcome {
  if (exit?.code === 0) return { ok: true, exitCode: 0 };
  if (exit !== null && exit.code !== null) {
    return failure('exit', `exited with code ${exit.code}`, { exitCode: exit.code });
  }
  return failure('exit', `killed by signal ${exit?.signal ?? 'unknown'}`);
}

/** Decodes UTF-8 safely across chunk boundaries (a character may be split between reads). */
function streamInto(readable: Readable, stream: LogStream, logs: LogBuffer): void {
  const decoder = new StringDecoder('utf8');
  readable.on('data', (bytes: Buffer) => logs.write(stream, decoder.write(bytes)));
  readable.on('end', () => logs.write(stream, decoder.end()));
  // A destroyed pipe (see PIPE_DRAIN_MS) may report an error; the outcome does not depend on it.
  readable.on('error', () => undefined);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
