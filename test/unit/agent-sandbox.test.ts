/** The task sandbox: bwrap's argv, the allow-listed environment, tenant dirs, and real bwrap runs. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  bwrapArgv,
  visibleWithin,
  type SandboxView,
} from '../../worker-agent/sandbox/bwrap-argv.ts';
import { taskEnv } from '../../worker-agent/sandbox/task-env.ts';
import { tenantRoot } from '../../worker-agent/sandbox/tenant-dirs.ts';
import { chooseIsolation, probeBwrap, Sandbox } from '../../worker-agent/sandbox/sandbox.ts';
import { commandExecutor } from '../../worker-agent/executors/command.ts';
import type { LogChunk, TaskOutcome } from '../../worker-agent/task-outcome.ts';
import { assignment, commandSpec } from './agent-helpers.ts';

/** A work dir for views built by hand: a path only, nothing is made there. */
const WORK = join(tmpdir(), 'tm-sandbox-view', 'work');

const VIEW: SandboxView = {
  system: [
    { path: '/usr', symlink: null },
    { path: '/bin', symlink: 'usr/bin' },
    { path: '/etc', symlink: null },
  ],
  workDir: WORK,
  ownDir: `${WORK}/.tm-tenants/t1`,
  hiddenDirs: [`${WORK}/.tm-tenants`, `${WORK}/.tm-pipelines`, `${WORK}/cache`],
  hiddenFiles: ['/etc/shadow', `${WORK}/agent-key.pem`],
  readOnly: ['/opt/tools/ocr'],
  cwd: `${WORK}/.tm-tenants/t1/sub`,
  network: false,
};

/** The argv as `option operand…` steps, so order can be asserted by index. */
const indexOf = (argv: string[], ...step: string[]) =>
  argv.findIndex((_, i) => step.every((word, j) => argv[i + j] === word));

describe('bwrapArgv', () => {
  it('shows a tenant the system and the work dir read-only, its own dir read-write, nothing else', () => {
    const argv = bwrapArgv(VIEW, ['/bin/sh', '-c', 'cat x']);
    for (const flag of ['--unshare-pid', '--unshare-net', '--die-with-parent'])
      expect(argv).toContain(flag);
    expect(indexOf(argv, '--cap-drop', 'ALL')).toBeGreaterThanOrEqual(0);
    expect(indexOf(argv, '--ro-bind', '/usr', '/usr')).toBeGreaterThanOrEqual(0);
    expect(indexOf(argv, '--symlink', 'usr/bin', '/bin')).toBeGreaterThanOrEqual(0);
    expect(indexOf(argv, '--ro-bind', WORK, WORK)).toBeGreaterThanOrEqual(0);
    expect(indexOf(argv, '--bind', WORK, WORK)).toBe(-1);
    expect(indexOf(argv, '--ro-bind', '/opt/tools/ocr', '/opt/tools/ocr')).toBeGreaterThan(0);
    expect(indexOf(argv, '--proc', '/proc')).toBeGreaterThan(0);
    expect(indexOf(argv, '--tmpfs', '/tmp')).toBeGreaterThan(0);
    // The tenants' folder is hidden first, then the tenant's own dir bound into it.
    const tenants = indexOf(argv, '--tmpfs', `${WORK}/.tm-tenants`);
    const own = indexOf(argv, '--bind', VIEW.ownDir, VIEW.ownDir);
    expect(tenants).toBeGreaterThan(indexOf(argv, '--ro-bind', WORK, WORK));
    expect(own).toBeGreaterThan(tenants);
    // Secrets are hidden after every bind, so none shows them again.
    expect(indexOf(argv, '--tmpfs', `${WORK}/cache`)).toBeGreaterThan(own);
    expect(indexOf(argv, '--ro-bind', '/dev/null', '/etc/shadow')).toBeGreaterThan(own);
    expect(indexOf(argv, '--ro-bind', '/dev/null', `${WORK}/agent-key.pem`)).toBeGreaterThan(own);
    expect(argv.slice(-6)).toEqual(['--chdir', VIEW.cwd, '--', '/bin/sh', '-c', 'cat x']);
  });

  it("gives the admin's task the work dir read-write, and the network only when allowed", () => {
    const argv = bwrapArgv({ ...VIEW, ownDir: WORK, cwd: WORK, network: true }, ['true']);
    expect(indexOf(argv, '--bind', WORK, WORK)).toBeGreaterThan(0);
    expect(argv).not.toContain('--unshare-net');
    expect(indexOf(argv, '--tmpfs', `${WORK}/.tm-tenants`)).toBeGreaterThan(
      indexOf(argv, '--bind', WORK, WORK),
    );
  });

  it("binds a dataflow task's outputs folder read-write after /tmp's tmpfs, and nothing else of it", () => {
    const outputs = '/tmp/tm-inputs-1-a/out-b';
    const argv = bwrapArgv({ ...VIEW, readWrite: [outputs] }, ['true']);
    expect(indexOf(argv, '--bind', outputs, outputs)).toBeGreaterThan(
      indexOf(argv, '--tmpfs', '/tmp'),
    );
    expect(indexOf(argv, '--bind', '/tmp/tm-inputs-1-a', '/tmp/tm-inputs-1-a')).toBe(-1);
  });

  it('hides only what a sandbox would show', () => {
    expect(
      visibleWithin([`${WORK}/k.pem`, '/home/a/k.pem', '/etc/shadow', `${WORK}x`], [WORK, '/etc']),
    ).toEqual([`${WORK}/k.pem`, '/etc/shadow']);
  });
});

describe('taskEnv', () => {
  it('passes PATH, LANG, LC_* and TZ of the agent, never its tokens or store keys', () => {
    const env = taskEnv({
      agent: {
        PATH: '/usr/bin',
        LANG: 'C.UTF-8',
        LC_ALL: 'C',
        TZ: 'UTC',
        HOME: '/root',
        TM_JOIN_TOKEN: 'tm_join_secret',
        AWS_SECRET_ACCESS_KEY: 'aws-secret',
        AWS_ACCESS_KEY_ID: 'AKIA',
        TM_ADMIN_TOKEN: 'admin',
        SSH_AUTH_SOCK: '/run/ssh',
      },
      home: `${WORK}/.tm-tenants/t1`,
      spec: { GREETING: 'hi', TM_TASK_ID: 'spoofed' },
      task: { TM_TASK_ID: 'task-1', TM_ATTEMPT: '2' },
    });
    expect(env).toEqual({
      PATH: '/usr/bin',
      LANG: 'C.UTF-8',
      LC_ALL: 'C',
      TZ: 'UTC',
      HOME: `${WORK}/.tm-tenants/t1`,
      GREETING: 'hi',
      TM_TASK_ID: 'task-1',
      TM_ATTEMPT: '2',
    });
  });

  it('gives a default PATH when the agent has none', () => {
    expect(taskEnv({ agent: {}, home: '/w', spec: {}, task: {} }).PATH).toMatch(/\/usr\/bin/);
  });
});

describe('tenant dirs', () => {
  it('puts a tenant under .tm-tenants and the admin in the work dir; refuses odd ids', () => {
    expect(tenantRoot(WORK, null)).toBe(WORK);
    expect(tenantRoot(WORK, 'b7c1-x_2')).toBe(`${WORK}/.tm-tenants/b7c1-x_2`);
    expect(() => tenantRoot(WORK, '../other')).toThrow(/not a plain name/);
    expect(() => tenantRoot(WORK, '')).toThrow(/not a plain name/);
  });
});

describe('chooseIsolation', () => {
  const works = () => ({ ok: true as const });
  const fails = () => ({ ok: false as const, reason: 'no user namespaces' });
  it('takes bwrap when it works, falls back with a warning in auto, refuses in bwrap', () => {
    expect(chooseIsolation('auto', works)).toEqual({ isolation: 'bwrap' });
    expect(chooseIsolation('auto', fails)).toMatchObject({
      isolation: 'none',
      warning: expect.stringContaining('no user namespaces'),
    });
    expect(() => chooseIsolation('bwrap', fails)).toThrow(/no user namespaces/);
    expect(chooseIsolation('none', fails)).toEqual({ isolation: 'none' });
  });
});

describe('command tasks in a real bwrap sandbox', () => {
  let root: string;
  let workDir: string;
  let secretDir: string;
  beforeAll(() => {
    root = realpathSync(mkdtempSync(join(tmpdir(), 'tm-sandbox-')));
    workDir = join(root, 'work');
    secretDir = join(workDir, 'agent-state');
    mkdirSync(secretDir, { recursive: true });
    writeFileSync(join(secretDir, 'agent-key.pem'), 'PRIVATE KEY');
    writeFileSync(join(workDir, 'shared.txt'), 'shared');
    writeFileSync(join(workDir, 'key-copy.pem'), 'ANOTHER KEY');
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  async function run(
    command: string,
    tenant: string | null,
    cancelAfterMs?: number,
  ): Promise<[TaskOutcome, string]> {
    const sandbox = new Sandbox({
      isolation: 'bwrap',
      workDir,
      network: false,
      secrets: [secretDir, join(workDir, 'key-copy.pem')],
      programs: [],
    });
    const execute = commandExecutor({
      workDir,
      address: 'test:1',
      killGraceMs: 300,
      acceptsCommands: true,
      sandbox,
      baseEnv: {
        PATH: '/usr/bin:/bin',
        TM_JOIN_TOKEN: 'tm_join_secret',
        AWS_SECRET_ACCESS_KEY: 'x',
      },
    });
    const chunks: LogChunk[] = [];
    const spec = commandSpec(command);
    const controller = new AbortController();
    if (cancelAfterMs !== undefined) setTimeout(() => controller.abort(), cancelAfterMs);
    const outcome = await execute({
      assignment: assignment(spec, 1, undefined, tenant),
      spec,
      signal: controller.signal,
      started: () => undefined,
      log: (batch) => chunks.push(...batch),
      progress: () => undefined,
    });
    return [outcome, chunks.map((chunk) => chunk.data).join('')];
  }

  it('probes bwrap as working on this machine', () => {
    expect(probeBwrap(false)).toEqual({ ok: true });
  });

  it("hides the agent's secrets, other tenants' dirs and processes, and its environment", async () => {
    const [first] = await run('echo mine > own.txt', 'tenant-a');
    expect(first.ok).toBe(true);
    const [outcome, text] = await run(
      [
        'cat shared.txt 2>/dev/null || cat ../../shared.txt',
        'echo; cat ../../agent-state/agent-key.pem; cat ../../key-copy.pem',
        `cat ${join(workDir, '.tm-tenants/tenant-a/own.txt')} || echo no-other-tenant`,
        'echo > ../../shared.txt || echo shared-read-only',
        'echo x > own-b.txt && echo own-writable',
        'env | grep -c -E "TM_JOIN_TOKEN|AWS_" || true',
        'ls /proc | grep -c -E "^[0-9]+$"',
        'pwd',
      ].join('; '),
      'tenant-b',
    );
    expect(outcome.ok).toBe(true);
    expect(text).toContain('shared');
    expect(text).not.toContain('PRIVATE KEY');
    expect(text).not.toContain('ANOTHER KEY');
    expect(text).not.toContain('mine');
    expect(text).toContain('no-other-tenant');
    expect(text).toContain('shared-read-only');
    expect(text).toContain('own-writable');
    expect(text).toContain(`${join(workDir, '.tm-tenants/tenant-b')}\n`);
    // No forbidden variable; only a handful of processes: the sandbox's own.
    const counts = text.match(/^\d+$/gm)?.map(Number) ?? [];
    expect(counts[0]).toBe(0);
    expect(counts[1]).toBeLessThan(8);
  });

  it("lets the admin's task write the work dir, still without the agent's secrets", async () => {
    const [outcome, text] = await run(
      'echo admin > admin.txt && cat admin.txt; cat agent-state/agent-key.pem; ls .tm-tenants | wc -l',
      null,
    );
    expect(outcome.ok).toBe(true);
    expect(text).toContain('admin');
    expect(text).not.toContain('PRIVATE KEY');
    expect(text).toMatch(/^0$/m);
  });

  it('gives a cancelled task its grace period (bwrap is spared the SIGTERM), then kills it', async () => {
    const [cancelled, text] = await run(
      'trap "sleep 0.1; echo cleaned up; exit 3" TERM; echo ready; sleep 30 & wait',
      'tenant-a',
      500,
    );
    expect(cancelled).toMatchObject({ ok: false, error: { type: 'cancelled' } });
    expect(text).toContain('cleaned up');
    const [stubborn] = await run("trap '' TERM; sleep 30", 'tenant-a', 300);
    expect(stubborn).toMatchObject({ ok: false, error: { type: 'cancelled' } });
  });
});
