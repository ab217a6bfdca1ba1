/** End to end: three real agents run command jobs from a real `wrangler dev`, output streamed back. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from '../support/stack.ts';
import { eventually } from '../support/wait.ts';
import type { LogEntry } from '../../protocol/index.ts';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({ agents: 3 });
});
afterAll(async () => stack?.stop());

describe('command jobs', () => {
  it('registers three workers and runs a script on each, streaming its output', async () => {
    const workers = await stack.client.listWorkers();
    expect(workers.filter((w) => w.connected && w.state === 'ready')).toHaveLength(3);

    const job = await stack.client.submitJob({
      kind: 'command',
      command: 'bash worker/scripts/count.sh',
      env: { COUNT: '3', STEP_SECONDS: '0.05' },
      workers: 'all',
    });
    expect(job.tasks).toHaveLength(3);
    const entries: LogEntry[] = [];
    let end: string | undefined;
    for await (const event of stack.client.followLogs({ jobId: job.id })) {
      if ('end' in event) end = event.state;
      else entries.push(event);
    }
    expect(end).toBe('succeeded');
    const done = await stack.client.getJob(job.id);
    expect(done.state).toBe('succeeded');
    expect(new Set(done.tasks?.map((t) => t.workerId))).toEqual(new Set(workers.map((w) => w.id)));
    for (const worker of workers) {
      const text = entries
        .filter((e) => e.stream === 'stdout')
        .map((e) => e.data)
        .join('');
      expect(text).toContain(`step 3 of 3 on ${worker.address}`);
    }
    expect(entries.some((e) => e.stream === 'stderr' && e.data.includes('done'))).toBe(true);
    const seqs = entries.map((e) => e.seq);
    expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
    expect(done.tasks?.every((t) => t.exitCode === 0 && t.attempt === 1)).toBe(true);
  });

  it('runs an argv command without a shell, so data stays one argument', async () => {
    const job = await stack.client.submitJob(
      { kind: 'command', command: ['printf', '%s|', 'x; echo pwned', '$(id)'] },
      30,
    );
    expect(job.state).toBe('succeeded');
    const { entries } = await stack.client.logs({ jobId: job.id });
    expect(entries.map((e) => e.data).join('')).toBe('x; echo pwned|$(id)|');
  });

  it('fails a job whose command exits non-zero, with the exit code and the last error', async () => {
    const job = await stack.client.submitJob(
      { kind: 'command', command: 'echo oops >&2; exit 3' },
      30,
    );
    expect(job.state).toBe('failed');
    expect(job.tasks?.[0]?.exitCode).toBe(3);
    expect(job.error).toMatch(/code 3/);
  });

  it('retries a failing task up to its limit, each run a new attempt', async () => {
    stack.writeScript(
      'flaky.sh',
      '#!/bin/sh\n[ "$TM_ATTEMPT" -ge 3 ] && echo "ok on $TM_ATTEMPT" && exit 0\nexit 1\n',
    );
    const job = await stack.client.submitJob(
      { kind: 'command', command: './flaky.sh', retries: 2 },
      30,
    );
    expect(job.state).toBe('succeeded');
    expect(job.tasks?.[0]?.attempt).toBe(3);
  });

  it('runs in the working directory given by path, and refuses paths that escape the work dir', async () => {
    stack.writeScript('sub/dir/where.sh', '#!/bin/sh\npwd\n');
    const job = await stack.client.submitJob(
      { kind: 'command', command: './where.sh', path: 'sub/dir' },
      30,
    );
    expect(job.state).toBe('succeeded');
    const { entries } = await stack.client.logs({ jobId: job.id });
    expect(
      entries
        .map((e) => e.data)
        .join('')
        .trim(),
    ).toMatch(/\/sub\/dir$/);
    await expect(
      stack.client.submitJob({ kind: 'command', command: 'ls', path: '../../etc' }),
    ).rejects.toMatchObject({
      status: 400,
      message: expect.stringContaining('path'),
    });
  });

  it('completes echo probes with their payload as the result', async () => {
    const job = await stack.client.submitJob(
      { kind: 'echo', payload: { n: 42, s: 'hi' }, count: 50 },
      30,
    );
    expect(job.state).toBe('succeeded');
    expect(job.counts.succeeded).toBe(50);
    expect(job.tasks?.every((t) => JSON.stringify(t.result) === '{"n":42,"s":"hi"}')).toBe(true);
  });

  it('refuses command tasks on an agent started with --no-commands', async () => {
    const agent = await stack.addAgent({ args: ['--no-commands'] });
    // The agent says what it accepts in its hello: wait until the control plane has it.
    const probe = await eventually(async () => {
      const workers = await stack.client.listWorkers();
      return workers.find((w) => w.address === agent.address && w.connected);
    }, 'the agent to connect');
    expect(probe.acceptsCommands).toBe(false);
    await expect(
      stack.client.submitJob({ kind: 'command', command: 'true', workers: [probe.id] }),
    ).rejects.toMatchObject({
      status: 409,
      message: expect.stringMatching(/run no command tasks/),
    });
    const echo = await stack.client.submitJob(
      { kind: 'echo', payload: 1, workers: [probe.id] },
      30,
    );
    expect(echo.state).toBe('succeeded');
  });
});
