/**
 * Adversarial: a tenant's command job tries each escape of issue 22 against a real stack (wrangler
 * dev, a real agent in bubblewrap) and each fails: the admin token and join token files, the
 * agents' keys, the Durable Object's SQLite files, another tenant's files and, through /proc,
 * another tenant's running task's secret env; nor does the agent's own environment reach it.
 * Under TM_REQUIRE_ISOLATION=bwrap an agent without a sandbox is rejected.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { TmClient } from '../../../cli/sdk/client.ts';
import { freePort } from '../../../cli/local/ports.ts';
import { agentBin } from '../../../cli/local/agent-build.ts';
import type { CreatedTenantToken, JobView, SubmitJobRequest } from '../../../protocol/index.ts';
import { startTestStack, type TestStack } from '../../support/stack.ts';
import { GRANT_ALL } from '../../support/tenants.ts';
import { eventually } from '../../support/wait.ts';

/** Secrets in the agent's own environment: a task must see none of them. */
const AGENT_AWS_SECRET = 'agent-aws-secret-0d1e';
const AGENT_ENV_TOKEN = 'tmj_agent-env-token-5c2b';
const VICTIM_SECRET = 'victim-env-secret-7a3f';

let stack: TestStack;
let attacker: TmClient;
let victim: TmClient;
let victimId: string;

beforeAll(async () => {
  // The agents inherit this process's environment: put what must not leak into it. (They read
  // their join token from --token-file, which wins over TM_JOIN_TOKEN.)
  process.env.AWS_SECRET_ACCESS_KEY = AGENT_AWS_SECRET;
  process.env.TM_JOIN_TOKEN = AGENT_ENV_TOKEN;
  stack = await startTestStack({ agents: 1, slots: 3, vars: { TM_REQUIRE_ISOLATION: 'bwrap' } });
  const tenant = async (name: string): Promise<CreatedTenantToken> =>
    stack.client.createTenant({ name, permissions: GRANT_ALL });
  const a = await tenant('attacker');
  const v = await tenant('victim');
  attacker = new TmClient(stack.url, { token: a.token });
  victim = new TmClient(stack.url, { token: v.token });
  victimId = v.tenant.id;
}, 180_000);

afterAll(async () => {
  delete process.env.AWS_SECRET_ACCESS_KEY;
  delete process.env.TM_JOIN_TOKEN;
  await stack?.stop();
});

/** Runs a shell line as `client`'s tenant to its end; its state and all its output. */
async function run(
  client: TmClient,
  command: string,
  extra: Partial<SubmitJobRequest> = {},
): Promise<{ job: JobView; text: string }> {
  const job = await client.submitJob(
    { kind: 'command', command, ...extra } as SubmitJobRequest,
    60,
  );
  const { entries } = await client.logs({ jobId: job.id });
  return { job, text: entries.map((entry) => entry.data).join('') };
}

/** Every file under `dir` whose name matches. */
function filesUnder(dir: string, match: RegExp): string[] {
  const found: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) found.push(...filesUnder(path, match));
    else if (match.test(name)) found.push(path);
  }
  return found;
}

/** Expects `cat` of each path to fail inside the task, with none of `secret` in its output. */
async function expectUnreadable(paths: string[], secret: string): Promise<void> {
  expect(paths.length).toBeGreaterThan(0);
  for (const path of paths) {
    const { job, text } = await run(attacker, `cat '${path}'`);
    expect({ path, state: job.state }).toEqual({ path, state: 'failed' });
    expect(text).toMatch(/No such file or directory|Permission denied/);
    expect(text).not.toContain(secret);
  }
}

describe('a tenant command job in the sandbox', () => {
  it('runs, and the worker view says its agent is sandboxed', async () => {
    const { job, text } = await run(attacker, 'echo hello from $PWD');
    expect(job.state).toBe('succeeded');
    expect(text).toContain(`hello from ${join(stack.workDir, '.tm-tenants')}`);
    const [worker] = await stack.client.listWorkers();
    expect(worker?.isolation).toBe('bwrap');
  });

  it('cannot read the admin token, by absolute path or relative to the work dir', async () => {
    await expectUnreadable([join(stack.stateDir, 'admin-token')], stack.adminToken);
    const { job, text } = await run(attacker, 'cat ../../../state/admin-token');
    expect(job.state).toBe('failed');
    expect(text).not.toContain(stack.adminToken);
  });

  it('cannot read the join token file', async () => {
    await expectUnreadable([stack.tokenFile], stack.token);
  });

  it("cannot read the agents' private keys", async () => {
    await expectUnreadable(
      stack.agents.map((agent) => agent.keyFile),
      'PRIVATE KEY',
    );
  });

  it("cannot read the Durable Object's SQLite files (the store secret lives there)", async () => {
    const sqlite = filesUnder(stack.stateDir, /\.sqlite(-wal|-shm)?$/);
    await expectUnreadable(sqlite, 'SQLite format');
    const { text } = await run(attacker, `ls -R '${stack.stateDir}' 2>&1; true`);
    expect(text).toMatch(/No such file or directory/);
  });

  it("cannot read another tenant's files in the work dir", async () => {
    const wrote = await run(victim, 'echo victim-file-content > private.txt && pwd');
    expect(wrote.job.state).toBe('succeeded');
    const victimDir = wrote.text.trim();
    expect(victimDir).toBe(join(stack.workDir, '.tm-tenants', victimId));
    await expectUnreadable([join(victimDir, 'private.txt')], 'victim-file-content');
    const { text } = await run(attacker, `grep -r victim-file-content '${stack.workDir}'; true`);
    expect(text).not.toContain('victim-file-content');
    // Nor can it write into the shared work dir that tenants only read.
    const shared = await run(attacker, `echo planted > '${join(stack.workDir, 'planted.sh')}'`);
    expect(shared.job.state).toBe('failed');
    expect(shared.text).toMatch(/Read-only file system/);
  });

  it("cannot read another tenant's running task's secret env through /proc", async () => {
    const running = await victim.submitJob({
      kind: 'command',
      command: 'sleep 30',
      env: { VICTIM_SECRET },
    });
    await eventually(async () => {
      const job = await victim.getJob(running.id);
      return job.tasks?.some((task) => task.state === 'running') ? job : undefined;
    }, 'the victim task to run');
    const { job, text } = await run(
      attacker,
      "ls /proc | grep -E '^[0-9]+$' | wc -l; cat /proc/[0-9]*/environ 2>/dev/null | tr '\\0' '\\n'; true",
    );
    expect(job.state).toBe('succeeded');
    expect(text).not.toContain(VICTIM_SECRET);
    // Only the sandbox's own processes: bwrap's init, the shell and its pipeline.
    expect(Number(text.split('\n')[0])).toBeLessThan(10);
    await victim.cancelJob(running.id);
  });

  it("gets none of the agent's environment: no AWS_ variables, no join token", async () => {
    const { job, text } = await run(attacker, 'env');
    expect(job.state).toBe('succeeded');
    expect(text).not.toMatch(/^AWS_/m);
    expect(text).not.toMatch(/^TM_JOIN_TOKEN=/m);
    expect(text).not.toContain(AGENT_AWS_SECRET);
    expect(text).not.toContain(AGENT_ENV_TOKEN);
    expect(text).not.toContain(stack.token);
    expect(text).toMatch(/^TM_TASK_ID=/m);
  });
});

describe('TM_REQUIRE_ISOLATION=bwrap', () => {
  it('rejects an agent without a sandbox, which exits 78 and says why', async () => {
    const address = `localhost:${await freePort()}`;
    const child = spawn(
      process.execPath,
      [
        agentBin,
        ...['--control-plane', stack.url, '--token-file', stack.tokenFile],
        ...['--address', address, '--work-dir', stack.workDir, '--cache-mb', '0'],
        ...['--key-file', join(stack.stateDir, 'unsandboxed-agent.pem'), '--isolation', 'none'],
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (data: Buffer) => (stderr += data.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(78);
    expect(stderr).toContain('isolation_required');
    const workers = await stack.client.listWorkers();
    expect(workers.find((worker) => worker.address === address)?.connected).not.toBe(true);
  });
});
