/**
 * End to end: an agent that falls silent (SIGSTOP, or its network cut) loses its task to another
 * worker once its lease lapses; when it returns, the control plane cancels its stale attempt and
 * ignores its late report.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentProcess } from '../../cli/local/agent-process.ts';
import { createTestHost, netnsSupport, type TestHost } from '../support/netns.ts';
import { startTestStack, type TestStack } from '../support/stack.ts';
import { eventually, processAlive } from '../support/wait.ts';

// Short leases keep the test quick: heartbeats every 500 ms, a silent agent is lost after 2 s.
const LEASE_VARS = { TM_HEARTBEAT_MS: '500', TM_LEASE_MS: '2000' };
/** The reason the control plane gives when it cancels what a returning agent still runs. */
const RECONCILE_REASON = 'no longer assigned to this worker';

// Attempt 1 (only on the agent at LONG_ON, when set) outlives every wait below, so only a cancel
// can end it in time; `exec` makes the logged pid the sleeping process itself.
const SCRIPT = `#!/bin/sh
echo "pid $$ attempt $TM_ATTEMPT on $TM_WORKER_ADDRESS"
if [ "$TM_ATTEMPT" = 1 ] && [ "\${LONG_ON:-$TM_WORKER_ADDRESS}" = "$TM_WORKER_ADDRESS" ]; then
  exec sleep 300
fi
sleep 1
echo finished
`;

let host: TestHost | null = null;
let stack: TestStack;
/** Attempt-1 processes; killed in afterAll in case a test failed before the cancel reached them. */
const stalePids: number[] = [];

beforeAll(async () => {
  // The partition test's agent dials the control plane from its namespace: listen on the link.
  if (netnsSupport.available) host = createTestHost();
  stack = await startTestStack({
    agents: 3,
    slots: 1,
    vars: LEASE_VARS,
    listenHost: host?.gateway,
  });
  stack.writeScript('long-first.sh', SCRIPT);
});

afterAll(async () => {
  for (const pid of stalePids) killQuietly(pid);
  // A stopped agent would not act on the SIGTERM that stop() sends.
  for (const agent of stack?.agents ?? []) agent.signal('SIGCONT');
  try {
    await stack?.stop();
  } finally {
    host?.destroy();
  }
});

const PARTITION = 'network partition: the cut-off agent loses its task after the lease';
const partitionTitle = netnsSupport.available
  ? `${PARTITION}; back on the network, its stale attempt is stopped`
  : `${PARTITION} (fallback: SIGSTOP — network namespaces unavailable: ${netnsSupport.reason})`;

describe('a silent agent', () => {
  it('SIGSTOP: its task moves after the lease; after SIGCONT its stale attempt is cancelled and its late report ignored', async () => {
    const job = await stack.client.submitJob({ kind: 'command', command: './long-first.sh' });
    const taskId = job.tasks![0]!.id;
    const stale = await firstAttempt(taskId);
    const worker = await stack.client.getWorker(stale.workerId);
    const agent = stack.agents.find((a) => a.address === worker.address)!;

    await loseAndReturn({
      jobId: job.id,
      taskId,
      stale,
      agent,
      silence: () => agent.signal('SIGSTOP'),
      resume: () => agent.signal('SIGCONT'),
    });
  });

  it(partitionTitle, async () => {
    const agent = host
      ? await stack.addAgent({ host: host.address, prefix: host.prefix })
      : await stack.addAgent();
    const workerId = await eventually(async () => {
      const workers = await stack.client.listWorkers();
      const ready = workers.filter((w) => w.connected && w.state === 'ready');
      if (ready.length < stack.agents.length) return undefined;
      return ready.find((w) => w.address === agent.address)?.id;
    }, 'every agent, the new one too, to be connected');
    // One task per idle one-slot agent (placement rotates), so one lands on the new agent; only
    // that one runs long.
    const job = await stack.client.submitJob({
      kind: 'command',
      command: './long-first.sh',
      env: { LONG_ON: agent.address },
      workers: stack.agents.length,
    });
    const task = await eventually(async () => {
      const { tasks } = await stack.client.getJob(job.id);
      return tasks?.find((t) => t.workerId === workerId);
    }, 'a task to be placed on the new agent');
    const stale = await firstAttempt(task.id);
    const cut = host;

    await loseAndReturn({
      jobId: job.id,
      taskId: task.id,
      stale,
      agent,
      silence: () => (cut ? cut.cut() : agent.signal('SIGSTOP')),
      resume: () => (cut ? cut.restore() : agent.signal('SIGCONT')),
    });
  });
});

interface SilentAgentCase {
  jobId: string;
  /** The task whose first attempt runs long on the agent that falls silent. */
  taskId: string;
  stale: { workerId: string; pid: number };
  agent: AgentProcess;
  silence(): void;
  resume(): void;
}

/** Silences the agent, checks the task moved, lets the agent return and checks what followed. */
async function loseAndReturn(scenario: SilentAgentCase): Promise<void> {
  const { client } = stack;
  const { jobId, taskId, stale, agent } = scenario;
  expect((await client.getWorker(stale.workerId)).state).toBe('ready');

  scenario.silence();
  const lost = await eventually(async () => {
    const worker = await client.getWorker(stale.workerId);
    return worker.state === 'lost' ? worker : undefined;
  }, 'the silent worker to be lost');
  expect(lost.connected).toBe(false);
  const done = await client.waitJob(jobId, 60_000);
  expect(done.state).toBe('succeeded');
  expect(done.counts).toMatchObject({ succeeded: done.tasks!.length, failed: 0 });
  const moved = done.tasks!.find((t) => t.id === taskId)!;
  expect(moved).toMatchObject({ state: 'succeeded', attempt: 2 });
  expect(moved.workerId).not.toBe(stale.workerId);
  // The agent has heard nothing yet: its attempt runs on.
  expect(processAlive(stale.pid)).toBe(true);
  expect((await client.getWorker(stale.workerId)).state).toBe('lost');

  scenario.resume();
  await eventually(
    async () => {
      const worker = await client.getWorker(stale.workerId);
      return worker.state === 'ready' && worker.connected ? true : undefined;
    },
    'the worker to be ready and connected again',
    60_000,
  );
  await eventually(
    () => (processAlive(stale.pid) ? undefined : true),
    'the stale attempt to be stopped',
    60_000,
  );
  // It was the control plane's cancel, sent on reconnect, that stopped it.
  await eventually(
    () => (cancelledForReconcile(agent.logFile, taskId) ? true : undefined),
    'the agent to log the cancel of attempt 1',
  );

  // The stale attempt's report left before anything the agent reports later: once a task pinned
  // to that worker has succeeded, the control plane has had the stale report too.
  const probe = await client.submitJob(
    { kind: 'command', command: 'echo back', workers: [stale.workerId] },
    30,
  );
  expect(probe.state).toBe('succeeded');
  const after = await client.getJob(jobId);
  expect(after.state).toBe('succeeded');
  expect(after.counts).toEqual(done.counts);
  expect(after.tasks!.find((t) => t.id === taskId)).toEqual(moved);
  const { entries } = await client.logs({ taskId });
  expect(entries.some((e) => e.attempt === 2 && e.data.includes('finished'))).toBe(true);
  expect(entries.every((e) => e.attempt <= 2)).toBe(true);
}

/** Waits for attempt 1 to run and returns its worker and the pid it logged. */
async function firstAttempt(taskId: string): Promise<{ workerId: string; pid: number }> {
  const task = await eventually(async () => {
    const view = await stack.client.getTask(taskId);
    return view.state === 'running' ? view : undefined;
  }, 'the task to run');
  expect(task.attempt).toBe(1);
  const pid = await eventually(async () => {
    const { entries } = await stack.client.logs({ taskId });
    const line = entries.find((e) => e.attempt === 1 && e.data.startsWith('pid '));
    return line ? Number(line.data.split(' ')[1]) : undefined;
  }, 'attempt 1 to log its pid');
  stalePids.push(pid);
  expect(processAlive(pid)).toBe(true);
  return { workerId: task.workerId!, pid };
}

/** Whether the agent's log says it ended attempt 1 of the task on the reconcile cancel. */
function cancelledForReconcile(logFile: string, taskId: string): boolean {
  return readFileSync(logFile, 'utf8')
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .some(
      (entry) =>
        entry.msg === 'task failed' &&
        entry.taskId === taskId &&
        entry.attempt === 1 &&
        JSON.stringify(entry.error).includes(RECONCILE_REASON),
    );
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // Already gone, as it should be.
  }
}
