/**
 * End to end: a stack whose control plane (TM_LOG_FORMAT=json) and agents (--log-format json)
 * write JSON log lines. Work makes the agents log tasks and the control plane warn (an agent with
 * another key at a registered address; a removed job whose results its store refuses to delete);
 * every line of theirs parses, with time, level, component and message, and no token or store
 * key appears in any of them: not the join token, not a wrong join token an agent tried, not the
 * secret key of the store.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentBin } from '../../cli/local/agent-build.ts';
import { agentFingerprint } from '../../cli/local/agent-process.ts';
import { freePort } from '../../cli/local/ports.ts';
import { createObjectStore } from '../../worker-agent/storage/object-store.ts';
import { startFaultProxy, type FaultProxy } from '../support/s3-fault-proxy.ts';
import { startTestStack, type TestStack } from '../support/stack.ts';
import { eventually } from '../support/wait.ts';

const STORE = 'keyed-store';
const STORE_KEY_ID = `AKIALOGS${randomBytes(6).toString('hex').toUpperCase()}`;
const STORE_SECRET = `logs+secret/${randomBytes(16).toString('base64url')}`;
const WRONG_TOKEN = `tm_join_wrong-${randomBytes(16).toString('hex')}`;

let stack: TestStack;
let proxy: FaultProxy;

beforeAll(async () => {
  stack = await startTestStack({
    agents: 2,
    s3: true,
    vars: { TM_LOG_FORMAT: 'json', TM_RETENTION_CHECK_SECONDS: '1' },
    agentArgs: ['--log-format', 'json'],
  });
  const store = createObjectStore(stack.s3!.access);
  await store.put('logs/csv/part-0.csv', new TextEncoder().encode('category,n\na,1\nb,2\n'));
  store.close();
  // The loopback bucket again, under keys of its own, through a proxy that can refuse every call.
  proxy = await startFaultProxy(stack.s3!.endpoint);
  await stack.client.registerStore({
    name: STORE,
    url: 's3://test-bucket',
    endpoint: proxy.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    accessKeyId: STORE_KEY_ID,
    secretAccessKey: STORE_SECRET,
  });
}, 180_000);

afterAll(async () => {
  await stack?.stop();
  await proxy?.stop();
});

type Line = Record<string, unknown>;

/**
 * The Worker's lines in the control plane's output. wrangler dev prints a Worker's console.warn
 * and console.error as `▲ [WARNING] <line>` and `✘ [ERROR] <line>` (in colour); the line itself
 * is what the Worker wrote, and what Workers Logs receives in production. Wrangler's own lines are
 * not ours: at --log-level warn it writes none unless something is wrong.
 */
function controlPlaneLines(): Line[] {
  return controlPlaneOutput()
    .split('\n')
    .map((line) => /^. \[(?:WARNING|ERROR)\] (\{"time".*)$/.exec(line)?.[1])
    .filter((line) => line !== undefined)
    .map((line) => JSON.parse(line) as Line);
}

/** The control plane's output without wrangler's colours. */
const controlPlaneOutput = () =>
  readFileSync(stack.controlPlaneLogFile, 'utf8').replace(/\x1b\[[0-9;]*m/g, '');

/** Every line of an agent's stderr, each of which must be JSON. */
function agentLines(file: string): Line[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as Line);
}

/** Runs tm-agent with JSON logs until it exits or `until` holds of its stderr; returns that. */
async function runAgent(args: string[], until: (stderr: string) => boolean) {
  const child = spawn(
    process.execPath,
    [
      agentBin,
      '--control-plane',
      stack.url,
      '--work-dir',
      stack.workDir,
      '--log-format',
      'json',
      ...args,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (data: Buffer) => (stderr += data.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  try {
    await eventually(
      () => until(stderr) || child.exitCode !== null || undefined,
      'the agent',
      30_000,
    );
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
  return { code: await exited, stderr };
}

describe('JSON log lines', () => {
  it('the agents log a task with its job and task; a line of each agent is one JSON object', async () => {
    const job = await stack.client.submitJob({ kind: 'command', command: 'echo logged' }, 60);
    expect(job.state).toBe('succeeded');
    const task = job.tasks?.[0]?.id;
    const lines = stack.agents.flatMap((agent) => agentLines(agent.logFile));
    expect(lines).toContainEqual({
      time: expect.any(String),
      level: 'info',
      component: 'agent',
      job: job.id,
      task,
      message: 'task succeeded',
      attempt: 1,
      exitCode: 0,
    });
    expect(lines).toContainEqual(
      expect.objectContaining({
        message: 'welcomed by the control plane',
        worker: job.tasks?.[0]?.workerId,
      }),
    );
  });

  it('an agent with another key at a registered address: the control plane warns, naming the worker', async () => {
    const address = `localhost:${await freePort()}`;
    const expected = agentFingerprint(join(stack.stateDir, 'keys', 'expected.pem'));
    const { worker } = await stack.client.registerWorker({ address, fingerprint: expected });
    const impostor = await runAgent(
      [
        '--token-file',
        stack.tokenFile,
        '--address',
        address,
        '--key-file',
        join(stack.stateDir, 'keys', 'impostor.pem'),
      ],
      () => false,
    );
    expect(impostor.code).toBe(78);
    expect(impostor.stderr).toContain('"code":"key_mismatch"');
    const warning = await eventually(
      () => controlPlaneLines().find((line) => line.worker === worker.id),
      'the control plane to log the rejected agent',
    );
    expect(warning).toEqual({
      time: expect.any(String),
      level: 'warn',
      component: 'agent-session',
      worker: worker.id,
      message: `rejected an agent for worker ${worker.id} at ${address}: key_mismatch`,
    });
  });

  it('an agent with a wrong join token is refused; the token is in no line of either side', async () => {
    const tokenFile = join(stack.stateDir, 'wrong-token');
    writeFileSync(tokenFile, `${WRONG_TOKEN}\n`, { mode: 0o600 });
    const address = `localhost:${await freePort()}`;
    const wrong = await runAgent(
      [
        '--token-file',
        tokenFile,
        '--address',
        address,
        '--key-file',
        join(stack.stateDir, 'keys', 'wrong.pem'),
      ],
      (stderr) => stderr.includes('"status":401'),
    );
    expect(wrong.stderr).toContain('the control plane refused the connection');
    expect(wrong.stderr).not.toContain(WRONG_TOKEN);
    for (const line of wrong.stderr.trim().split('\n'))
      expect(() => JSON.parse(line)).not.toThrow();
    expect(readFileSync(stack.controlPlaneLogFile, 'utf8')).not.toContain(WRONG_TOKEN);
  });

  it("a removed job whose store refuses to delete its results: the warning names the job, never the store's key", async () => {
    const job = await stack.client.submitJob(
      {
        kind: 'aggregate',
        source: { store: STORE, prefix: 'logs/csv/', format: 'csv' },
        groupBy: ['category'],
        aggregates: [{ op: 'count' }],
        retries: 0,
        retentionSeconds: 3,
      },
      60,
    );
    expect(['succeeded', 'failed']).toContain(job.state);
    proxy.setRules({ fault: 'refuse' });
    const warning = await eventually(
      () =>
        controlPlaneLines().find((line) => line.component === 'retention' && line.job === job.id),
      'the control plane to log the failed deletion',
      60_000,
    );
    expect(warning).toMatchObject({
      level: 'warn',
      message: "deleting a removed job's results failed; retrying later",
      store: STORE,
      error: `object store ${STORE}: s3://test-bucket (object _tm/jobs/${job.id}/) at ${proxy.endpoint}: cannot reach the store (Error)`,
    });
    proxy.setRules();
  });

  it('every line of the control plane and the agents is JSON with the required keys, and no secret', () => {
    const ours = controlPlaneLines();
    expect(ours.length).toBeGreaterThanOrEqual(2);
    const logDir = join(stack.stateDir, 'logs');
    const agentFiles = readdirSync(logDir).filter((name) => name.startsWith('agent-'));
    expect(agentFiles).toHaveLength(2);
    const agents = agentFiles.flatMap((name) => agentLines(join(logDir, name)));
    for (const line of [...ours, ...agents]) {
      expect(line).toMatchObject({
        time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
        level: expect.stringMatching(/^(debug|info|warn|error)$/),
        component: expect.any(String),
        message: expect.any(String),
      });
    }
    // Every warning and error in the control plane's output is one of those JSON lines.
    expect(controlPlaneOutput().match(/\[(WARNING|ERROR)\]/g)).toHaveLength(ours.length);
    const everything = [
      readFileSync(stack.controlPlaneLogFile, 'utf8'),
      ...agentFiles.map((name) => readFileSync(join(logDir, name), 'utf8')),
    ].join('\n');
    for (const secret of [stack.token, stack.adminToken, WRONG_TOKEN, STORE_SECRET])
      expect(everything).not.toContain(secret);
  });
});
