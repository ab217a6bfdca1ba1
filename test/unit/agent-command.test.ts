/** The command executor against real processes: output, argv, exits, timeouts, cancel, env. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TaskSpec } from '../../protocol/index.ts';
import { commandExecutor, NO_COMMANDS_MESSAGE } from '../../worker-agent/executors/command.ts';
import type { CommandOptions } from '../../worker-agent/executors/command.ts';
import { liveGroupCount } from '../../worker-agent/process-groups.ts';
import type { LogChunk, TaskOutcome } from '../../worker-agent/task-outcome.ts';
import { assignment, commandSpec, eventually, groupMembers } from './agent-helpers.ts';
import { processAlive } from '../support/wait.ts';

let workDir: string;
beforeAll(async () => {
  workDir = await realpath(await mkdtemp(join(tmpdir(), 'tm-agent-command-')));
  await mkdir(join(workDir, 'sub'));
});
afterAll(async () => rm(workDir, { recursive: true, force: true }));

interface Run {
  outcome: Promise<TaskOutcome>;
  chunks: LogChunk[];
  started: () => boolean;
  cancel: () => void;
  /** All output so far, per stream. */
  text: (stream?: LogChunk['stream']) => string;
}

function start(
  spec: Extract<TaskSpec, { kind: 'command' }>,
  options: Partial<CommandOptions> = {},
): Run {
  const execute = commandExecutor({
    workDir,
    address: 'test-host:50051',
    killGraceMs: 300,
    acceptsCommands: true,
    ...options,
  });
  const controller = new AbortController();
  const chunks: LogChunk[] = [];
  let started = false;
  const outcome = Promise.resolve(
    execute({
      assignment: assignment(spec, 3),
      spec,
      signal: controller.signal,
      started: () => {
        started = true;
      },
      log: (batch) => chunks.push(...batch),
      progress: () => undefined,
    }),
  );
  return {
    outcome,
    chunks,
    started: () => started,
    cancel: () => controller.abort({ kind: 'cancel', message: 'stop' }),
    text: (stream) =>
      chunks
        .filter((chunk) => stream === undefined || chunk.stream === stream)
        .map((chunk) => chunk.data)
        .join(''),
  };
}

/** The first line of stdout, as a pid, once the task printed it. */
function pidFrom(run: Run): Promise<number> {
  return eventually(() => {
    const line = run.text('stdout').split('\n')[0];
    return line && /^\d+$/.test(line) ? Number(line) : undefined;
  }, 'the task to print its pid');
}

describe('command executor', () => {
  it('runs a shell line and streams both stdout and stderr', async () => {
    const run = start(commandSpec('echo out-1; echo err-1 >&2; printf "out-2\\n"'));
    expect(await run.outcome).toEqual({ ok: true, exitCode: 0 });
    expect(run.started()).toBe(true);
    expect(run.text('stdout')).toBe('out-1\nout-2\n');
    expect(run.text('stderr')).toBe('err-1\n');
    expect(liveGroupCount()).toBe(0);
  });

  it('runs an argv directly, without a shell', async () => {
    const run = start(commandSpec(['printf', '%s|', 'x; echo pwned', '$HOME']));
    expect(await run.outcome).toEqual({ ok: true, exitCode: 0 });
    expect(run.text('stdout')).toBe('x; echo pwned|$HOME|');
  });

  it('runs in the resolved path and refuses paths outside the work dir', async () => {
    const run = start(commandSpec('pwd', { path: 'sub' }));
    expect(await run.outcome).toMatchObject({ ok: true });
    expect(run.text('stdout')).toBe(join(workDir, 'sub') + '\n');
    const refused = start(commandSpec('pwd', { path: 'missing' }));
    expect(await refused.outcome).toEqual({
      ok: false,
      error: {
        type: 'refused',
        message: expect.stringMatching(/does not exist/),
        nonRetryable: true,
      },
    });
    expect(refused.started()).toBe(false);
  });

  it('reports a non-zero exit and death by a signal', async () => {
    expect(await start(commandSpec('echo bye; exit 7')).outcome).toEqual({
      ok: false,
      exitCode: 7,
      error: { type: 'exit', message: 'exited with code 7' },
    });
    expect(await start(commandSpec(['sh', '-c', 'kill -KILL $$'])).outcome).toEqual({
      ok: false,
      error: { type: 'exit', message: 'killed by signal SIGKILL' },
    });
  });

  it('reports a program that does not exist as a spawn failure', async () => {
    const run = start(commandSpec(['./no-such-program-here']));
    expect(await run.outcome).toEqual({
      ok: false,
      error: { type: 'spawn', message: expect.stringMatching(/no-such-program-here.*ENOENT/) },
    });
    expect(run.started()).toBe(false);
  });

  it('refuses every command with --no-commands', async () => {
    expect(await start(commandSpec('true'), { acceptsCommands: false }).outcome).toEqual({
      ok: false,
      error: { type: 'refused', message: NO_COMMANDS_MESSAGE, nonRetryable: true },
    });
  });

  it('passes the task env and the TM_ variables, but not the join token', async () => {
    const run = start(
      commandSpec(
        'echo "$TM_TASK_ID|$TM_JOB_ID|$TM_ATTEMPT|$TM_WORKER_ADDRESS|$GREETING|${TM_JOIN_TOKEN:-none}"',
        {
          env: { GREETING: 'hello world', TM_ATTEMPT: 'overridden?' },
        },
      ),
      { baseEnv: { PATH: process.env.PATH, TM_JOIN_TOKEN: 'secret-token' } },
    );
    expect(await run.outcome).toMatchObject({ ok: true });
    const [taskId, jobId, attempt, address, greeting, token] = run.text('stdout').trim().split('|');
    expect(taskId).toMatch(/^[0-9a-f-]{36}$/);
    expect(jobId).toMatch(/^[0-9a-f-]{36}$/);
    expect(jobId).not.toBe(taskId);
    expect(attempt).toBe('3');
    expect(address).toBe('test-host:50051');
    expect(greeting).toBe('hello world');
    expect(token).toBe('none');
  });

  it('decodes UTF-8 split across reads', async () => {
    const run = start(commandSpec("printf '\\303'; sleep 0.2; printf '\\251\\n'"));
    expect(await run.outcome).toMatchObject({ ok: true });
    expect(run.text('stdout')).toBe('é\n');
  });

  it('kills a task that outlives its timeout', async () => {
    const run = start(commandSpec('echo $$; exec sleep 100', { timeoutSeconds: 0.5 }));
    const pid = await pidFrom(run);
    expect(processAlive(pid)).toBe(true);
    expect(await run.outcome).toEqual({
      ok: false,
      error: { type: 'timeout', message: 'timed out after 0.5s' },
    });
    expect(processAlive(pid)).toBe(false);
  });

  it('kills the whole process tree on cancel', async () => {
    const run = start(commandSpec(`echo $$; sh -c 'sleep 100 & sleep 100; wait'`));
    const pgid = await pidFrom(run);
    const members = await eventually(() => {
      const found = groupMembers(pgid);
      return found.length >= 4 ? found : undefined;
    }, 'the shells and both sleeps to start');
    run.cancel();
    expect(await run.outcome).toMatchObject({ ok: false, error: { type: 'cancelled' } });
    await eventually(
      () => (members.every((pid) => !processAlive(pid)) ? true : undefined),
      'the tree to die',
    );
    expect(groupMembers(pgid)).toEqual([]);
  });

  it('follows SIGTERM with SIGKILL after the grace period', async () => {
    const run = start(commandSpec(`trap '' TERM; echo $$; sleep 100`), { killGraceMs: 200 });
    const pgid = await pidFrom(run);
    await eventually(
      () => (groupMembers(pgid).length >= 2 ? true : undefined),
      'the sleep to start',
    );
    run.cancel();
    expect(await run.outcome).toMatchObject({ ok: false, error: { type: 'cancelled' } });
    await eventually(
      () => (groupMembers(pgid).length === 0 ? true : undefined),
      'the group to die',
    );
  });

  it('kills what a finished task left running in its group', async () => {
    const run = start(commandSpec('sleep 100 & echo $!'));
    expect(await run.outcome).toEqual({ ok: true, exitCode: 0 });
    const pid = Number(run.text('stdout').trim());
    await eventually(() => (processAlive(pid) ? undefined : true), 'the leftover sleep to die');
  });
});
