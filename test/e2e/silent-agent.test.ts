/**
 * End to end: an agent that falls silent (SIGSTOP, or its network cut) loses its task to another
 * worker once its lease lapses; when it returns, the control plane cancels its stale attempt and
 * ignores its late report.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentProcess } from '../../cli/local/agent-process.ts';
import type { JobView, SubmitJobRequest, TaskView } from '../../protocol/index.ts';
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

// Attempt 1 finishes, successfully, once the file RELEASE exists: the test creates it while the
// agent is stopped, so the agent can only report that completion late.
const LATE_SCRIPT = `#!/bin/sh
echo "pid $$ attempt $TM_ATTEMPT"
if [ "$TM_ATTEMPT" = 1 ]; then
  while [ ! -e "$RELEASE" ]; do sleep 0.1; done
  echo "late finish"
  exit 0
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
    // These tests follow task processes by their host pids, which bwrap's PID namespace hides.
    // JSON log lines, which agentLogged reads.
    agentArgs: ['--isolation', 'none', '--log-format', 'json'],
  });
  stack.writeScript('long-first.sh', SCRIPT);
  stack.writeScript('late-first.sh', LATE_SCRIPT);
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
    const scenario = await singleTaskCase({ kind: 'command', command: './long-first.sh' });
    const done = await silenceUntilMoved(scenario);

    await returnAfterSilence(scenario);
    await expectStaleCancelled(scenario);
    await expectLateReportIgnored(scenario, done);
  });

  it('SIGSTOP: an attempt that finished while its agent was stopped has its late completion ignored', async () => {
    const release = join(stack.workDir, 'late-first.release');
    const scenario = await singleTaskCase({
      kind: 'command',
      command: './late-first.sh',
      env: { RELEASE: release },
    });
    const done = await silenceUntilMoved(scenario);
    writeFileSync(release, '');
    await eventually(
      () => (processAlive(scenario.stale.pid) ? undefined : true),
      'the stale attempt to finish',
    );

    await returnAfterSilence(scenario);
    await eventually(
      () => (agentLogged(scenario, 'task succeeded') ? true : undefined),
      'the agent to see attempt 1 succeed',
    );
    await expectLateReportIgnored(scenario, done);
    const { entries } = await stack.client.logs({ taskId: scenario.taskId });
    expect(entries.some((e) => e.data.includes('late finish'))).toBe(false);
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
    const link = host; // a const, so the closures below see it narrowed
    const scenario: SilentAgentCase = {
      jobId: job.id,
      taskId: task.id,
      stale,
      agent,
      silence: () => (link ? link.cut() : agent.signal('SIGSTOP')),
      resume: () => (link ? link.restore() : agent.signal('SIGCONT')),
    };
    const done = await silenceUntilMoved(scenario);

    await returnAfterSilence(scenario);
    await expectStaleCancelled(scenario);
    await expectLateReportIgnored(scenario, done);
  });
});

interface SilentAgentCase {
  jobId: string;
  /** The task whose first attempt is still on the agent when it falls silent. */
  taskId: string;
  stale: { workerId: string; pid: number };
  agent: AgentProcess;
  silence(): void;
  resume(): void;
}

/** Submits a one-task job and returns the case of the agent that runs its first attempt. */
async function singleTaskCase(request: SubmitJobRequest): Promise<SilentAgentCase> {
  const job = await stack.client.submitJob(request);
  const taskId = job.tasks![0]!.id;
  const stale = await firstAttempt(taskId);
  const worker = await stack.client.getWorker(stale.workerId);
  const agent = stack.agents.find((a) => a.address === worker.address)!;
  return {
    jobId: job.id,
    taskId,
    stale,
    agent,
    silence: () => agent.signal('SIGSTOP'),
    resume: () => agent.signal('SIGCONT'),
  };
}

/** Silences the agent; its worker goes lost and the job succeeds with the task moved elsewhere. */
async function silenceUntilMoved(scenario: SilentAgentCase): Promise<JobView> {
  const { client } = stack;
  const { jobId, taskId, stale } = scenario;
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
  const moved = movedTask(done, taskId);
  expect(moved).toMatchObject({ state: 'succeeded', attempt: 2 });
  expect(moved.workerId).not.toBe(stale.workerId);
  expect((await client.getWorker(stale.workerId)).state).toBe('lost');
  // The agent has heard nothing yet: its attempt 1 runs on.
  expect(processAlive(stale.pid)).toBe(true);
  return done;
}

/** Lets the agent speak again and waits for its worker to be ready and connected. */
async function returnAfterSilence(scenario: SilentAgentCase): Promise<void> {
  scenario.resume();
  await eventually(
    async () => {
      const worker = await stack.client.getWorker(scenario.stale.workerId);
      return worker.state === 'ready' && worker.connected ? true : undefined;
    },
    'the worker to be ready and connected again',
    60_000,
  );
}

/** The stale attempt's process dies, stopped by the cancel the control plane sent on reconnect. */
async function expectStaleCancelled(scenario: SilentAgentCase): Promise<void> {
  await eventually(
    () => (processAlive(scenario.stale.pid) ? undefined : true),
    'the stale attempt to be stopped',
    60_000,
  );
  await eventually(
    () => (agentLogged(scenario, 'task failed', RECONCILE_REASON) ? true : undefined),
    'the agent to log the cancel of attempt 1',
  );
}

/**
 * The agent's report on attempt 1 left before anything it reports later, so once a task pinned to
 * its worker has succeeded, the control plane has had the stale report: it changed nothing.
 */
async function expectLateReportIgnored(scenario: SilentAgentCase, done: JobView): Promise<void> {
  const { client } = stack;
  const probe = await client.submitJob(
    { kind: 'command', command: 'echo back', workers: [scenario.stale.workerId] },
    30,
  );
  expect(probe.state).toBe('succeeded');
  const after = await client.getJob(scenario.jobId);
  expect(after.state).toBe('succeeded');
  expect(after.counts).toEqual(done.counts);
  expect(movedTask(after, scenario.taskId)).toEqual(movedTask(done, scenario.taskId));
  const { entries } = await client.logs({ taskId: scenario.taskId });
  expect(entries.some((e) => e.attempt === 2 && e.data.includes('finished'))).toBe(true);
  expect(entries.every((e) => e.attempt <= 2)).toBe(true);
}

function movedTask(job: JobView, taskId: string): TaskView {
  const task = job.tasks?.find((t) => t.id === taskId);
  if (!task) throw new Error(`job ${job.id} has no task ${taskId}`);
  return task;
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

/** Whether the agent logged `message` for attempt 1 of the task, with `text` in its error if given. */
function agentLogged(scenario: SilentAgentCase, message: string, text?: string): boolean {
  return readFileSync(scenario.agent.logFile, 'utf8')
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .some(
      (entry) =>
        entry.message === message &&
        entry.task === scenario.taskId &&
        entry.attempt === 1 &&
        (text === undefined || JSON.stringify(entry.error).includes(text)),
    );
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // Already gone, as it should be.
  }
}
