/** The command executor: runs a shell line or an argv in its own process group, to its end. */
import { spawn } from 'node:child_process';
import { realpath } from 'node:fs/promises';
import type { ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import type { LogStream, StageInstance } from '../../protocol/index.ts';
import { LogBuffer } from '../log-buffer.ts';
import { signalGroup, signalGroupMembers, trackGroup, untrackGroup } from '../process-groups.ts';
import type { Sandbox } from '../sandbox/sandbox.ts';
import { taskEnv } from '../sandbox/task-env.ts';
import { ensureTenantRoot } from '../sandbox/tenant-dirs.ts';
import { failure } from '../task-outcome.ts';
import type { CommandSpec, Executor, TaskContext, TaskOutcome } from '../task-outcome.ts';
import { resolveTaskDir } from '../workdir.ts';
import type { StreamHub } from '../streams/hub.ts';
import { joinStream } from '../streams/stream-task.ts';
import { removeInputs, stageEnv, StdoutTail, writeInputs } from './stage-io.ts';
import { makeOutputsFolder, uploadOutputs, withOutputsFolder } from './stage-outputs.ts';

export interface CommandOptions {
  /** Absolute work dir; a task's `path` resolves inside it. */
  workDir: string;
  /** This agent's address, given to tasks as TM_WORKER_ADDRESS. */
  address: string;
  /** Time between SIGTERM and SIGKILL when a task is cancelled or times out. */
  killGraceMs: number;
  /** False with --no-commands: every command task is refused. */
  acceptsCommands: boolean;
  /**
   * Where PATH, LANG, LC_* and TZ of tasks come from (default: the agent's environment); nothing
   * else of it reaches a task.
   */
  baseEnv?: NodeJS.ProcessEnv;
  /** What tasks run in (default: nothing, the agent's own view). */
  sandbox?: Sandbox;
  /** The data plane of stream tasks; without it, a stream task is refused. */
  streams?: StreamHub;
}

export const NO_COMMANDS_MESSAGE = 'this agent runs no command tasks (--no-commands)';
/** How long to wait for the pipes after the process exited, in case a runaway holds them open. */
const PIPE_DRAIN_MS = 2000;
const MAX_TIMER_MS = 2 ** 31 - 1;

type TaskProcess = ChildProcess & { stdout: Readable; stderr: Readable };

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
  const tenant = task.assignment.tenant;
  // A tenant's `path` resolves in its own dir (sandbox/tenant-dirs.ts); the admin's in the work dir.
  const root = await realpath(await ensureTenantRoot(options.workDir, tenant));
  const dir = await resolveTaskDir(root, task.spec.path);
  if (!dir.ok) return failure('refused', dir.message, { nonRetryable: true });
  if (task.signal.aborted) return failure('cancelled', 'cancelled before it started');
  if (task.spec.stream && !options.streams)
    return failure('refused', 'this agent takes no stream tasks', { nonRetryable: true });
  const stage = task.spec.stage;
  if (!stage) return start(task, options, root, dir.dir, null);
  let inputs: string;
  try {
    inputs = await writeInputs(stage);
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    return failure('internal', `cannot write the stage's inputs: ${why}`);
  }
  const outputs = stage.outputs ? await makeOutputsFolder() : null;
  try {
    const run = { stage, inputs, outputs, tail: new StdoutTail() };
    const outcome = await start(task, options, root, dir.dir, run);
    if (!outcome.ok || !outputs || !stage.outputs) return outcome;
    const refused = await uploadOutputs(outputs, stage.outputs);
    return refused ? failure('exit', refused) : outcome;
  } finally {
    await removeInputs(inputs);
    if (outputs) await removeInputs(outputs);
  }
}

/**
 * A stage instance's extras: its place, its inputs folder, its outputs folder if it declares
 * outputs, and the tail of its stdout.
 */
interface StageRun {
  stage: StageInstance;
  inputs: string;
  outputs: string | null;
  tail: StdoutTail;
}

async function start(
  task: TaskContext<CommandSpec>,
  options: CommandOptions,
  root: string,
  cwd: string,
  stageRun: StageRun | null,
): Promise<TaskOutcome> {
  const [file, words] = programOf(task.spec.command);
  const outputs = stageRun?.outputs ?? null;
  const args = outputs ? withOutputsFolder(words, outputs) : words;
  const sandbox = options.sandbox;
  const [program, argv] = sandbox
    ? sandbox.wrap([file, ...args], {
        ownDir: root,
        cwd,
        tenant: task.assignment.tenant,
        ...(stageRun ? { readOnly: [stageRun.inputs] } : {}),
        ...(outputs ? { readWrite: [outputs] } : {}),
      })
    : [file, args];
  let child: TaskProcess;
  try {
    // detached: the task leads its own process group, so one signal reaches its whole tree.
    child = spawn(program, argv, {
      cwd,
      env: {
        ...taskEnvOf(task, options, root),
        ...(stageRun ? stageEnv(stageRun.stage, stageRun.inputs, outputs) : {}),
      },
      detached: true,
      // A stream task reads records on stdin and has its control channel on fd 3.
      stdio: task.spec.stream ? ['pipe', 'pipe', 'pipe', 'pipe'] : ['ignore', 'pipe', 'pipe'],
    }) as TaskProcess;
  } catch (error) {
    // Synchronous spawn errors are argument errors (e.g. a NUL byte): no retry will fix them.
    return failure('spawn', `cannot start ${file}: ${messageOf(error)}`, { nonRetryable: true });
  }
  const sandboxed = sandbox?.isolation === 'bwrap';
  let stop: (outcome: TaskOutcome) => void = () => undefined;
  // The first data-plane failure, kept: one after the process exited still fails the task.
  let broken: TaskOutcome | null = null;
  const plan = task.spec.stream;
  const stream =
    plan && options.streams && child.pid !== undefined
      ? joinStream(options.streams, plan, streamRef(task), child, (message) => {
          broken ??= failure('peer', message);
          stop(broken);
        })
      : null;
  let endedWell = false;
  try {
    const outcome = await supervise(child, file, task, {
      killGraceMs: options.killGraceMs,
      sandboxed,
      stdoutTaken: stream?.stdoutTaken ?? false,
      tail: stageRun?.tail,
      stopper: (stopWith) => (stop = stopWith),
    });
    if (!outcome.ok || !stageRun) return outcome;
    await stream?.finish();
    if (broken) return broken;
    endedWell = true;
    const result = stream?.result() ?? (stream?.stdoutTaken ? undefined : stageRun.tail.text());
    return result === undefined ? outcome : { ...outcome, result };
  } finally {
    stream?.close(endedWell);
  }
}

/** A stream task's attempt, and its name as its peers' messages give it. */
const streamRef = (task: TaskContext<CommandSpec>) => ({
  taskId: task.assignment.taskId,
  attempt: task.assignment.attempt,
  from: `${task.spec.stage?.name ?? '?'}/${task.spec.stage?.instance ?? '?'}`,
});

interface SuperviseOptions {
  killGraceMs: number;
  sandboxed: boolean;
  /** Stdout is a stream task's records: not logged. */
  stdoutTaken: boolean;
  /** Keeps the end of stdout (a stage's result). */
  tail: StdoutTail | undefined;
  /** Gets the function that stops the task with an outcome of the caller's (a stream's failure). */
  stopper(stop: (outcome: TaskOutcome) => void): void;
}

/** A shell line runs under `/bin/sh -c`; an argv runs as is, with no shell to interpret it. */
function programOf(command: CommandSpec['command']): [string, string[]] {
  if (typeof command === 'string') return ['/bin/sh', ['-c', command]];
  const [program = '', ...args] = command;
  return [program, args];
}

function taskEnvOf(
  task: TaskContext<CommandSpec>,
  options: CommandOptions,
  home: string,
): Record<string, string> {
  return taskEnv({
    agent: options.baseEnv ?? process.env,
    home,
    spec: task.spec.env,
    task: {
      TM_TASK_ID: task.assignment.taskId,
      TM_JOB_ID: task.assignment.jobId,
      TM_ATTEMPT: String(task.assignment.attempt),
      TM_WORKER_ADDRESS: options.address,
    },
  });
}

/** Streams the child's output, enforces timeout and cancel, and resolves once with its outcome. */
function supervise(
  child: TaskProcess,
  file: string,
  task: TaskContext<CommandSpec>,
  { killGraceMs, sandboxed, stdoutTaken, tail, stopper }: SuperviseOptions,
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
    if (!stdoutTaken) streamInto(child.stdout, 'stdout', logs);
    if (tail && !stdoutTaken) child.stdout.on('data', (bytes: Buffer) => tail.write(bytes));
    streamInto(child.stderr, 'stderr', logs);

    /** SIGTERM the group, SIGKILL it after the grace period; the outcome is decided now. */
    const stop = (outcome: TaskOutcome) => {
      if (stopping !== null || exit !== null || pid === undefined) return;
      stopping = outcome;
      if (sandboxed) signalGroupMembers(pid, 'SIGTERM');
      else signalGroup(pid, 'SIGTERM');
      later(killGraceMs, () => signalGroup(pid, 'SIGKILL'));
    };
    stopper(stop);
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
      // Not a stream task's stdout: its records may wait on a slow consumer, and are all owed.
      later(PIPE_DRAIN_MS, () => {
        if (!stdoutTaken) child.stdout.destroy();
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
