/**
 * End to end: an agent back after SIGKILL at the same address, an agent drained by SIGTERM, and a
 * control plane restarted in the middle of an aggregation.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { startAgent } from '../../cli/local/agent-process.ts';
import { createObjectStore } from '../../worker-agent/storage/object-store.ts';
import { startTestStack, type TestStack } from '../support/stack.ts';
import { eventually, processAlive } from '../support/wait.ts';
import { createDatasets, type Datasets } from '../support/datasets.ts';
import { resultAndOracle } from '../support/oracle.ts';

let stack: TestStack;
let data: Datasets;

beforeAll(async () => {
  stack = await startTestStack({
    agents: 2,
    slots: 1,
    s3: true,
    vars: { TM_HEARTBEAT_MS: '500', TM_LEASE_MS: '2000' },
    // These tests follow task processes by their host pids, which bwrap's PID namespace hides.
    agentArgs: ['--isolation', 'none'],
  });
  // Its first attempt hangs on; later ones finish at once.
  stack.writeScript(
    'first-hangs.sh',
    '#!/bin/sh\necho "pid $$"\nif [ "$TM_ATTEMPT" = 1 ]; then exec sleep 60; fi\necho finished\n',
  );
  const store = createObjectStore(stack.s3!.access);
  data = await createDatasets({ store, prefix: 'restarts/', files: 8, rowsPerFile: 20_000 });
  store.close();
}, 180_000);

afterAll(async () => {
  await stack?.stop();
  await data?.cleanup();
});

async function runningTask(jobId: string) {
  return eventually(async () => {
    const job = await stack.client.getJob(jobId);
    const task = job.tasks?.find((t) => t.state === 'running');
    return task?.workerId ? { ...task, workerId: task.workerId } : undefined;
  }, 'a task to run');
}

async function agentOf(workerId: string) {
  const { address } = await stack.client.getWorker(workerId);
  const agent = stack.agents.find((a) => a.address === address);
  if (!agent) throw new Error(`no agent at ${address}`);
  return agent;
}

describe('agent restart', () => {
  it('an agent back at the same address after SIGKILL is the same worker and stops the orphaned attempt', async () => {
    const job = await stack.client.submitJob({ kind: 'command', command: './first-hangs.sh' });
    const task = await runningTask(job.id);
    const pid = await eventually(async () => {
      const { entries } = await stack.client.logs({ taskId: task.id });
      const match = /pid (\d+)/.exec(entries.map((e) => e.data).join(''));
      return match ? Number(match[1]) : undefined;
    }, 'the task to print its pid');

    const victim = await agentOf(task.workerId);
    victim.signal('SIGKILL');
    await victim.exited;
    stack.agents.splice(stack.agents.indexOf(victim), 1);
    // Nothing could stop the command: it is an orphan now.
    expect(processAlive(pid)).toBe(true);

    const back = await startAgent({
      controlPlane: stack.url,
      tokenFile: stack.tokenFile,
      address: victim.address,
      workDir: stack.workDir,
      logDir: join(stack.stateDir, 'logs'),
      slots: 1,
    });
    stack.agents.push(back);
    await eventually(() => (processAlive(pid) ? undefined : true), 'the orphan to be stopped');
    const worker = await eventually(async () => {
      const view = await stack.client.getWorker(task.workerId);
      return view.connected ? view : undefined;
    }, 'the worker to reconnect');
    expect(worker).toMatchObject({ state: 'ready', address: victim.address });
    const sameAddress = (await stack.client.listWorkers()).filter(
      (w) => w.address === victim.address,
    );
    expect(sameAddress.map((w) => w.id)).toEqual([task.workerId]);

    const done = await stack.client.waitJob(job.id, 60_000);
    expect(done.state).toBe('succeeded');
    const history = (await stack.client.getTask(task.id)).history ?? [];
    expect(history[0]).toMatchObject({ attempt: 1, outcome: 'lost', workerId: task.workerId });
    expect(history.at(-1)).toMatchObject({ outcome: 'succeeded' });
  });
});

describe('agent drain', () => {
  it('SIGTERM: the running task finishes where it is, nothing new lands there, the agent exits 0', async () => {
    stack.writeScript('sleepy.sh', '#!/bin/sh\nsleep 2\necho finished\n');
    const job = await stack.client.submitJob({ kind: 'command', command: './sleepy.sh' });
    const task = await runningTask(job.id);
    const draining = await agentOf(task.workerId);
    draining.signal('SIGTERM');
    await eventually(async () => {
      const view = await stack.client.getWorker(task.workerId);
      return view.acceptingTasks ? undefined : true;
    }, 'the worker to stop accepting tasks');

    const other = await stack.client.submitJob({ kind: 'command', command: 'true', workers: 2 });
    const otherDone = await stack.client.waitJob(other.id, 60_000);
    expect(otherDone.state).toBe('succeeded');
    expect(otherDone.tasks?.every((t) => t.workerId !== task.workerId)).toBe(true);

    const done = await stack.client.waitJob(job.id, 60_000);
    expect(done.tasks?.[0]).toMatchObject({
      state: 'succeeded',
      attempt: 1,
      workerId: task.workerId,
    });
    expect(await draining.exited).toBe(0);
    stack.agents.splice(stack.agents.indexOf(draining), 1);
    await stack.addAgent();
  });
});

describe('control plane restart', () => {
  it('restarted in the middle of an aggregation, it loses nothing and the result is exact', async () => {
    const job = await stack.client.submitJob({
      kind: 'aggregate',
      source: { store: 'test-bucket', prefix: `${data.prefix}csv/`, format: 'csv' },
      groupBy: ['category', 'flag'],
      aggregates: [{ op: 'count' }, { op: 'sum', column: 'n' }, { op: 'min', column: 'k' }],
    });
    await eventually(async () => {
      const view = await stack.client.getJob(job.id);
      return view.counts.running > 0 ? true : undefined;
    }, 'the aggregation to run');
    await stack.restartControlPlane();

    const done = await stack.client.waitJob(job.id, 120_000);
    expect(done.error).toBeNull();
    expect(done.state).toBe('succeeded');
    const { ours, theirs } = await resultAndOracle(
      stack.client,
      job.id,
      `SELECT category, flag, count(*), sum(n), min(k) FROM read_csv('${data.glob('csv')}') GROUP BY category, flag`,
    );
    expect(ours).toEqual(theirs);
  });
});
