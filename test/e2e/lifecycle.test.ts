/** End to end: cancelling jobs, draining workers, listing running tasks. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { startTestStack, type TestStack } from '../support/stack.ts';
import { eventually, processAlive } from '../support/wait.ts';

let stack: TestStack;
beforeAll(async () => {
  // These tests follow task processes by their host pids, which bwrap's PID namespace hides.
  stack = await startTestStack({ agents: 2, agentArgs: ['--isolation', 'none'] });
  // Starts a child and a grandchild that both sleep, and records their pids.
  stack.writeScript(
    'long.sh',
    '#!/bin/bash\nsleep 300 &\necho $! > "pids-$TM_TASK_ID"\necho $$ >> "pids-$TM_TASK_ID"\necho started\nwait\n',
  );
});
afterAll(async () => stack?.stop());

function pidsOf(taskId: string): number[] {
  const file = join(stack.workDir, `pids-${taskId}`);
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').trim().split('\n').map(Number).filter(Boolean);
}

describe('cancel', () => {
  it('cancels a long-running job and kills its whole process tree', async () => {
    const job = await stack.client.submitJob({ kind: 'command', command: './long.sh' });
    const taskId = job.tasks![0]!.id;
    const pids = await eventually(async () => {
      const found = pidsOf(taskId);
      return found.length === 2 ? found : undefined;
    }, 'the task to record its pids');
    // The agent's `started` frame may reach the control plane a moment after the script has run.
    await eventually(
      async () =>
        (await stack.client.listTasks('running')).some((t) => t.id === taskId) ? true : undefined,
      'the task to be listed as running',
    );

    const cancelled = await stack.client.cancelJob(job.id);
    expect(cancelled.state).toBe('cancelled');
    expect(cancelled.tasks?.[0]?.state).toBe('cancelled');
    await eventually(
      async () => (pids.every((pid) => !processAlive(pid)) ? true : undefined),
      'the process tree to die',
    );
    await expect(stack.client.cancelJob(job.id)).rejects.toMatchObject({ status: 409 });
  });
});

describe('deregister', () => {
  it('drains a busy worker: its running task finishes, then the worker is gone and its agent exits', async () => {
    const agent = await stack.addAgent();
    const worker = (await stack.client.listWorkers()).find((w) => w.address === agent.address)!;
    stack.writeScript('short.sh', '#!/bin/sh\nsleep 1.5\necho finished\n');
    const job = await stack.client.submitJob({
      kind: 'command',
      command: './short.sh',
      workers: [worker.id],
    });
    await eventually(
      async () => ((await stack.client.getJob(job.id)).counts.running === 1 ? true : undefined),
      'the task to run',
    );

    const draining = await stack.client.deregisterWorker(worker.id);
    expect(draining.state).toBe('draining');
    const other = await stack.client.submitJob({ kind: 'echo', count: 20 }, 30);
    expect(other.tasks?.every((t) => t.workerId !== worker.id)).toBe(true);

    const done = await stack.client.waitJob(job.id, 30_000);
    expect(done.state).toBe('succeeded');
    await eventually(
      async () => ((await stack.client.getWorker(worker.id)).state === 'gone' ? true : undefined),
      'the worker to be gone',
    );
    expect((await stack.client.listWorkers()).map((w) => w.id)).not.toContain(worker.id);
    expect(await agent.exited).toBe(0);
  });

  it('force-deregisters a busy worker: its task is requeued and runs elsewhere', async () => {
    await stack.addAgent();
    stack.writeScript(
      'marker.sh',
      '#!/bin/sh\necho "on $TM_WORKER_ADDRESS attempt $TM_ATTEMPT"\nsleep 1\n',
    );
    const job = await stack.client.submitJob({
      kind: 'command',
      command: './marker.sh',
      workers: 1,
    });
    const task = await eventually(async () => {
      const t = await stack.client.getTask(job.tasks![0]!.id);
      return t.state === 'running' ? t : undefined;
    }, 'the task to run');
    const victim = await stack.client.getWorker(task.workerId!);
    await stack.client.deregisterWorker(victim.id, true);
    expect((await stack.client.getWorker(victim.id)).state).toBe('gone');
    const done = await stack.client.waitJob(job.id, 30_000);
    expect(done.state).toBe('succeeded');
    expect(done.tasks?.[0]?.attempt).toBe(2);
    expect(done.tasks?.[0]?.workerId).not.toBe(victim.id);
  });
});
