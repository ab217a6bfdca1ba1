/**
 * Adversarial, on the real stack: workers join by approval (issue 22). Whoever holds the cluster
 * join token could start an agent at an address nobody registered, be accepted unnoticed and be
 * handed other tenants' task specs. Now such an agent waits as `pending`, connected and given
 * nothing, until the admin approves it; an agent pre-registered by its key's fingerprint is
 * approved at once, and any other key at that address is refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startAgent, type AgentProcess } from '../../../cli/local/agent-process.ts';
import { freePort } from '../../../cli/local/ports.ts';
import { agentBin } from '../../../cli/local/agent-build.ts';
import type { JobView, WorkerView } from '../../../protocol/index.ts';
import { startTestStack, type TestStack } from '../../support/stack.ts';
import { runTmProcess, type TmTarget } from '../../support/tm-process.ts';
import { eventually } from '../../support/wait.ts';

let stack: TestStack;
let tm: TmTarget;
beforeAll(async () => {
  // JSON log lines, which the pending-agent test reads.
  stack = await startTestStack({ agents: 1, agentArgs: ['--log-format', 'json'] });
  tm = {
    url: stack.url,
    token: stack.adminToken,
    configHome: mkdtempSync(join(stack.stateDir, 'config-')),
  };
});
afterAll(async () => stack?.stop());

/** `tm-agent --print-fingerprint --key-file FILE`: the key's fingerprint, the file made if missing. */
function printFingerprint(keyFile: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    const child = spawn(process.execPath, [agentBin, '--print-fingerprint', '--key-file', keyFile]);
    child.stdout.on('data', (data: Buffer) => (out += data.toString()));
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve(out.trim()) : reject(new Error(`--print-fingerprint exited ${code}`)),
    );
  });
}

/** The worker at `address`, once it is in the list and `accept` holds for it. */
function workerAt(address: string, accept: (w: WorkerView) => boolean, what: string) {
  return eventually(async () => {
    const found = (await stack.client.listWorkers()).find((w) => w.address === address);
    return found && accept(found) ? found : undefined;
  }, what);
}

/** Tasks the agent's own /metrics says it ran, finished or holds. */
async function tasksRunBy(agent: AgentProcess): Promise<number> {
  const text = await (await fetch(agent.healthUrl.replace('/healthz', '/metrics'))).text();
  const value = (name: string) => {
    const line = text.split('\n').find((l) => l.startsWith(`${name} `));
    if (!line) throw new Error(`no ${name} in the agent's metrics`);
    return Number(line.slice(name.length + 1));
  };
  return (
    value('tm_agent_tasks_completed_total') +
    value('tm_agent_tasks_failed_total') +
    value('tm_agent_running_tasks')
  );
}

const workersOf = (job: JobView) => new Set((job.tasks ?? []).map((t) => t.workerId));

/** The id of the stack's own (pre-registered) agent's worker. */
async function approvedId(): Promise<string> {
  const workers = await stack.client.listWorkers();
  const first = workers.find((w) => w.address === stack.agents[0]?.address);
  if (!first) throw new Error('no approved worker');
  return first.id;
}

describe('an agent that joins with only the cluster join token', () => {
  let intruder: AgentProcess;
  let pending: WorkerView;

  it('waits as pending, connected, with its fingerprint shown and logged, never a secret', async () => {
    intruder = await stack.addAgent({ register: false });
    pending = await workerAt(
      intruder.address,
      (w) => w.connected && w.keyFingerprint !== null,
      'the unregistered agent to connect',
    );
    const fingerprint = await printFingerprint(intruder.keyFile);
    expect(pending).toMatchObject({
      state: 'pending',
      approved: false,
      connected: true,
      keyFingerprint: fingerprint,
    });
    const { workers } = JSON.parse(
      (await runTmProcess(tm, ['workers', '--state', 'pending', '--json'])).stdout,
    ) as { workers: WorkerView[] };
    expect(workers.map((w) => w.id)).toEqual([pending.id]);

    const line = await eventually(
      () =>
        readFileSync(intruder.logFile, 'utf8')
          .split('\n')
          .find((l) => l.includes('waiting for approval')),
      'the agent to log that it waits for approval',
    );
    expect(JSON.parse(line)).toMatchObject({
      message: `waiting for approval: tm workers approve ${pending.id}`,
      worker: pending.id,
      fingerprint,
    });
    expect(readFileSync(intruder.logFile, 'utf8')).not.toContain(stack.token);
  });

  it('receives no task while approved agents run the jobs', async () => {
    const job = await stack.client.submitJob({ kind: 'echo', count: 8, payload: 'secret' }, 60);
    expect(job.state).toBe('succeeded');
    expect(workersOf(job)).toEqual(new Set([await approvedId()]));
    expect(await tasksRunBy(intruder)).toBe(0);
  });

  it('receives no task even when it is the only connected agent, until approved', async () => {
    const [approved] = stack.agents;
    await approved!.stop(3000);
    await eventually(async () => {
      const workers = await stack.client.listWorkers();
      return workers.some((w) => w.state === 'ready' && w.connected) ? undefined : true;
    }, 'the approved agent to be gone');

    // Placement runs as the job is submitted: a task the pending agent could take would be
    // assigned in this very reply.
    const job = await stack.client.submitJob({ kind: 'command', command: 'echo approved only' });
    expect(job.tasks?.map((t) => [t.state, t.workerId])).toEqual([['queued', null]]);
    expect((await stack.client.getJob(job.id)).tasks?.[0]?.state).toBe('queued');
    expect(await tasksRunBy(intruder)).toBe(0);

    const approve = await runTmProcess(tm, ['workers', 'approve', pending.id]);
    expect(approve.code).toBe(0);
    expect(approve.stdout).toContain(`worker ${pending.id}`);
    const done = await eventually(async () => {
      const view = await stack.client.getJob(job.id);
      return view.state === 'succeeded' ? view : undefined;
    }, 'the job to run on the approved agent');
    expect(workersOf(done)).toEqual(new Set([pending.id]));
    expect(await stack.client.getWorker(pending.id)).toMatchObject({
      state: 'ready',
      approved: true,
    });
    expect(readFileSync(intruder.logFile, 'utf8')).toMatch(/the admin approved this worker/);
  });
});

describe('a worker pre-registered with its fingerprint', () => {
  it('is approved at the first hello of the agent with that key', async () => {
    const address = `localhost:${await freePort()}`;
    const keyFile = join(stack.stateDir, 'keys', 'preregistered.pem');
    const fingerprint = await printFingerprint(keyFile);
    const registered = await runTmProcess(tm, [
      'register-worker',
      address,
      '--fingerprint',
      fingerprint,
    ]);
    expect(registered.code).toBe(0);
    const agent = await startAgent({
      controlPlane: stack.url,
      tokenFile: stack.tokenFile,
      address,
      keyFile,
      workDir: stack.workDir,
      logDir: join(stack.stateDir, 'logs'),
    });
    stack.agents.push(agent);
    const worker = await workerAt(address, (w) => w.connected, 'the agent to connect');
    expect(worker).toMatchObject({ state: 'ready', approved: true, keyFingerprint: fingerprint });
    const job = await stack.client.submitJob(
      { kind: 'command', command: 'echo hi', workers: [worker.id] },
      60,
    );
    expect(job.state).toBe('succeeded');
    expect(readFileSync(agent.logFile, 'utf8')).not.toMatch(/waiting for approval/);
  });

  it('refuses an agent with another key at that address (key_mismatch, exit 78)', async () => {
    const address = `localhost:${await freePort()}`;
    const expected = await printFingerprint(join(stack.stateDir, 'keys', 'expected.pem'));
    const worker = (await stack.client.registerWorker({ address, fingerprint: expected })).worker;
    const impostorKey = join(stack.stateDir, 'keys', 'impostor.pem');
    const impostor = spawn(
      process.execPath,
      [
        agentBin,
        ...['--control-plane', stack.url, '--token-file', stack.tokenFile, '--address', address],
        ...['--work-dir', stack.workDir, '--key-file', impostorKey],
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let log = '';
    impostor.stderr.on('data', (data: Buffer) => (log += data.toString()));
    const timer = setTimeout(() => impostor.kill('SIGKILL'), 60_000);
    const code = await new Promise<number | null>((resolve) => impostor.on('exit', resolve));
    clearTimeout(timer);
    expect(code).toBe(78);
    // Text lines, the default.
    expect(log).toMatch(/ERROR agent: the control plane rejected this agent code=key_mismatch/);
    expect(await stack.client.getWorker(worker.id)).toMatchObject({
      state: 'pending',
      connected: false,
      keyFingerprint: null,
      expectedFingerprint: expected,
    });
  });
});
