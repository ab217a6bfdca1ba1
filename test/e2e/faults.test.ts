/** End to end: an agent killed with SIGKILL mid-task, and a control plane restarted mid-job. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from '../support/stack.ts';
import { eventually } from '../support/wait.ts';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({ agents: 3, slots: 1 });
  stack.writeScript(
    'slow.sh',
    '#!/bin/sh\necho "attempt $TM_ATTEMPT on $TM_WORKER_ADDRESS"\nsleep "${SLEEP:-2}"\necho finished\n',
  );
});
afterAll(async () => stack?.stop());

describe('faults', () => {
  it('runs the task of an agent killed with SIGKILL on another worker, as a new attempt', async () => {
    const job = await stack.client.submitJob({
      kind: 'command',
      command: './slow.sh',
      env: { SLEEP: '3' },
    });
    const taskId = job.tasks![0]!.id;
    const first = await eventually(async () => {
      const task = await stack.client.getTask(taskId);
      return task.state === 'running' ? task : undefined;
    }, 'the task to start');
    const worker = await stack.client.getWorker(first.workerId!);
    const victim = stack.agents.find((a) => a.address === worker.address)!;
    victim.signal('SIGKILL');
    await victim.exited;

    const done = await stack.client.waitJob(job.id, 30_000);
    expect(done.state).toBe('succeeded');
    const task = done.tasks![0]!;
    expect(task.attempt).toBe(2);
    expect(task.workerId).not.toBe(worker.id);
    expect((await stack.client.getWorker(worker.id)).connected).toBe(false);
    const { entries } = await stack.client.logs({ taskId });
    expect(entries.some((e) => e.attempt === 2 && e.data.includes('finished'))).toBe(true);
    stack.agents.splice(stack.agents.indexOf(victim), 1);
  });

  it('keeps workers, jobs, tasks and logs across a control plane restart, and finishes the job', async () => {
    const before = await stack.client.submitJob(
      { kind: 'command', command: 'echo kept', workers: 1 },
      30,
    );
    expect(before.state).toBe('succeeded');
    const job = await stack.client.submitJob({
      kind: 'command',
      command: './slow.sh',
      env: { SLEEP: '4' },
    });
    await eventually(
      async () => ((await stack.client.getJob(job.id)).counts.running === 1 ? true : undefined),
      'the task to run',
    );

    await stack.restartControlPlane();

    const kept = await stack.client.getJob(before.id);
    expect(kept.state).toBe('succeeded');
    const { entries } = await stack.client.logs({ jobId: before.id });
    expect(entries.map((e) => e.data).join('')).toContain('kept');
    const workers = await stack.client.listWorkers();
    expect(workers.length).toBeGreaterThanOrEqual(2);
    const done = await stack.client.waitJob(job.id, 60_000);
    expect(done.state).toBe('succeeded');
    await eventually(async () => {
      const live = await stack.client.listWorkers();
      return live.filter((w) => w.connected).length === stack.agents.length ? true : undefined;
    }, 'the agents to reconnect');
  });
});
