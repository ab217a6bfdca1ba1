/**
 * Adversarial, on the real thing: `tm up` (wrangler dev, the S3 server, agents) with its own state
 * dir and ports. Signals during start-up and twice in a row leave nothing behind; a taken port is
 * refused naming its holder; the state is 0600/0700; the wrong-token lockout cannot be dodged
 * with a forged CF-Connecting-IP and never refuses a valid token.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { lstatSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../../cli/local/ports.ts';
import { portFree } from '../../../cli/local/port-holders.ts';
import { repoRoot } from '../../../cli/local/repo.ts';
import { processStartTime } from '../../../worker-agent/group-ledger.ts';
import { TM_BIN } from '../../support/tm-process.ts';
import { eventually, processAlive } from '../../support/wait.ts';

interface TmUp {
  child: ChildProcess;
  stateDir: string;
  ports: number[];
  url: string;
  output(): string;
  exited: Promise<number | null>;
}

const roots: string[] = [];

/** Starts `tm up` (with `args`) on free ports with a fresh state dir and two agents. */
async function startUp(args: string[] = []): Promise<TmUp> {
  const root = mkdtempSync(join(tmpdir(), 'tm-adv-up-'));
  roots.push(root);
  const stateDir = join(root, '.tm');
  const [port, s3Port, a1, a2] = await Promise.all([1, 2, 3, 4].map(() => freePort()));
  const child = spawn(process.execPath, [TM_BIN, 'up', ...args], {
    cwd: repoRoot,
    env: {
      ...process.env,
      TM_UP_STATE_DIR: stateDir,
      TM_UP_PORT: String(port),
      TM_UP_S3_PORT: String(s3Port),
      TM_UP_AGENT_PORTS: `${a1},${a2}`,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  child.stdout!.on('data', (chunk: Buffer) => (text += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  return {
    child,
    stateDir,
    ports: [port!, s3Port!, a1!, a2!],
    url: `http://127.0.0.1:${port}`,
    output: () => text,
    exited,
  };
}

const waitForOutput = (up: TmUp, pattern: RegExp) =>
  eventually(() => (pattern.test(up.output()) ? true : undefined), `tm up to print ${pattern}`, {
    timeoutMs: 90_000,
  });

/** Every process below `pid` now, with its start time, so a reused pid is not mistaken for it. */
function descendants(pid: number): Array<{ pid: number; startTime: string }> {
  const parentOf = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parentOf.set(Number(name), ppid);
    } catch {
      // Gone meanwhile.
    }
  }
  const found = new Set([pid]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [child, parent] of parentOf)
      if (found.has(parent) && !found.has(child)) {
        found.add(child);
        grew = true;
      }
  }
  found.delete(pid);
  return [...found].map((p) => ({ pid: p, startTime: processStartTime(p) ?? '' }));
}

/** Processes that still run and mention the stack's state dir or its ports on their command line. */
function leftovers(up: TmUp, before: Array<{ pid: number; startTime: string }>): string[] {
  const alive = before
    .filter(
      (p) => p.startTime !== '' && processStartTime(p.pid) === p.startTime && processAlive(p.pid),
    )
    .map((p) => `pid ${p.pid}: ${commandOf(p.pid)}`);
  const marks = [up.stateDir, ...up.ports.map((port) => `:${port}`)];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      const command = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').join(' ');
      const state = readFileSync(`/proc/${name}/stat`, 'utf8');
      if (/\) Z /.test(state)) continue;
      if (marks.some((mark) => command.includes(mark))) alive.push(`pid ${name}: ${command}`);
    } catch {
      // Gone meanwhile.
    }
  }
  return alive;
}

function commandOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return '?';
  }
}

async function takenPorts(ports: number[]): Promise<number[]> {
  const taken: number[] = [];
  for (const port of ports) if (!(await portFree(port))) taken.push(port);
  return taken;
}

afterAll(() => {
  for (const root of roots) rmSync(root, { recursive: true, force: true });
});

describe('tm up, running', () => {
  let up: TmUp;
  let adminToken: string;
  beforeAll(async () => {
    up = await startUp(['--log-format', 'json']);
    await waitForOutput(up, /TM Scheduler is up/);
    adminToken = readFileSync(join(up.stateDir, 'admin-token'), 'utf8').trim();
  }, 150_000);
  afterAll(async () => {
    if (up.child.exitCode === null) {
      up.child.kill('SIGTERM');
      await up.exited;
    }
  });

  const call = (token: string, client?: string) =>
    fetch(`${up.url}/v1/jobs`, {
      headers: {
        authorization: `Bearer ${token}`,
        ...(client ? { 'cf-connecting-ip': client } : {}),
      },
    });

  it('with --log-format json, gives the control plane TM_LOG_FORMAT=json and its agents --log-format json', () => {
    const logs = join(up.stateDir, 'logs');
    const agentLogs = readdirSync(logs).filter((name) => name.startsWith('agent-'));
    expect(agentLogs).toHaveLength(2);
    for (const name of agentLogs) {
      const lines = readFileSync(join(logs, name), 'utf8').trim().split('\n');
      expect(lines.length).toBeGreaterThan(0);
      for (const line of lines)
        expect(JSON.parse(line)).toMatchObject({ level: expect.any(String), component: 'agent' });
    }
    expect(readFileSync(join(up.stateDir, 'worker.env'), 'utf8').split('\n')).toContain(
      'TM_LOG_FORMAT=json',
    );
  });

  it('keeps its state, wrangler SQLite included, readable by its owner only', () => {
    const loose: string[] = [];
    let sqlite = 0;
    const visit = (path: string) => {
      const stat = lstatSync(path);
      if (stat.isSymbolicLink()) return;
      const mode = stat.mode & 0o777;
      if (stat.isDirectory()) {
        if (mode !== 0o700) loose.push(`${path} ${mode.toString(8)}`);
        for (const name of readdirSync(path)) visit(join(path, name));
      } else {
        if ((mode & 0o077) !== 0) loose.push(`${path} ${mode.toString(8)}`);
        if (path.includes(join('state', 'v3', 'do')) && path.endsWith('.sqlite')) sqlite++;
      }
    };
    visit(up.stateDir);
    expect(sqlite).toBeGreaterThan(0);
    expect(loose).toEqual([]);
  });

  it('counts forged CF-Connecting-IP values as one client, and never refuses a valid token', async () => {
    const tenant = (await (
      await fetch(`${up.url}/v1/tenants`, {
        method: 'POST',
        headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: `adv-${Date.now()}` }),
      })
    ).json()) as { token: string };
    const statuses: number[] = [];
    // The default limit is 10 wrong tokens a minute; each guess claims a new address.
    for (let i = 1; i <= 12; i++)
      statuses.push((await call(`tmt_guess_${i}`, `203.0.113.${i}`)).status);
    expect(statuses.slice(0, 9)).toEqual(Array(9).fill(401));
    expect(statuses.slice(9)).toEqual([429, 429, 429]);
    // Locked out for wrong tokens, every client (the local bucket is one) still gets in with a valid one.
    expect((await call(adminToken)).status).toBe(200);
    expect((await call(adminToken, '203.0.113.1')).status).toBe(200);
    expect((await call(tenant.token, '198.51.100.7')).status).toBe(200);
    expect((await call('tmt_guess_again', '198.51.100.8')).status).toBe(429);
  });

  it('refuses a second tm up on the same ports, naming the first one as the holder', async () => {
    const port = up.ports[0]!;
    const second = spawn(process.execPath, [TM_BIN, 'up'], {
      cwd: repoRoot,
      env: {
        ...process.env,
        TM_UP_STATE_DIR: join(up.stateDir, '..', 'second'),
        TM_UP_PORT: String(port),
        TM_UP_S3_PORT: String(up.ports[1]),
        TM_UP_AGENT_PORTS: String(up.ports[2]),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let text = '';
    second.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
    second.stderr.on('data', (chunk: Buffer) => (text += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => second.once('exit', resolve));
    expect(code).not.toBe(0);
    // workerd holds the control plane's port; the S3 server its own.
    expect(text).toMatch(
      new RegExp(`port ${port} \\(the control plane\\) is taken by pid \\d+ \\([^)]*workerd`),
    );
    expect(text).toMatch(
      new RegExp(`port ${up.ports[1]} \\(the S3 server\\) is taken by pid \\d+ \\([^)]*s3rver`),
    );
    expect(text).not.toMatch(/is up/);
  });

  it('stops everything on SIGINT followed at once by a second SIGINT', async () => {
    const before = descendants(up.child.pid!);
    expect(before.length).toBeGreaterThanOrEqual(4);
    // Two SIGINTs sent back to back may merge into one (a pending signal is not queued twice), so
    // the second goes the moment the stop has begun, as npm's forwarded one does.
    up.child.stdout!.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('stopping')) up.child.kill('SIGINT');
    });
    up.child.kill('SIGINT');
    expect(await up.exited).toBe(0);
    expect(up.output()).toMatch(/SIGINT again: still stopping/);
    expect(up.output()).toMatch(/stopped\./);
    expect(leftovers(up, before)).toEqual([]);
    expect(await takenPorts(up.ports)).toEqual([]);
  });
});

describe('tm up, interrupted', () => {
  it('stops everything started so far on a SIGINT during start-up', async () => {
    const up = await startUp();
    // The control plane and the S3 server run; the first agent is starting.
    await waitForOutput(up, /starting its agent/);
    const before = descendants(up.child.pid!);
    up.child.kill('SIGINT');
    expect(await up.exited).toBe(130);
    expect(up.output()).not.toMatch(/is up/);
    expect(leftovers(up, before)).toEqual([]);
    expect(await takenPorts(up.ports)).toEqual([]);
  }, 150_000);

  it('stops wrangler on a SIGTERM while the control plane is still starting', async () => {
    const up = await startUp();
    await waitForOutput(up, /starting the control plane/);
    // wrangler is spawned; workerd may not answer yet.
    const before = await eventually(() => {
      const found = descendants(up.child.pid!);
      return found.some((p) => commandOf(p.pid).includes('wrangler')) ? found : undefined;
    }, 'wrangler to be spawned');
    up.child.kill('SIGTERM');
    expect(await up.exited).toBe(130);
    expect(up.output()).not.toMatch(/object store s3:/);
    expect(leftovers(up, before)).toEqual([]);
    expect(await takenPorts(up.ports)).toEqual([]);
  }, 150_000);

  it('refuses to start on a taken port, naming the pid and command line holding it', async () => {
    const holderPort = await freePort();
    const holder = spawn(
      process.execPath,
      [
        '-e',
        `require('net').createServer().listen(${holderPort}, '127.0.0.1', () => console.log('ready'))`,
      ],
      { stdio: ['ignore', 'pipe', 'ignore'] },
    );
    try {
      await new Promise((resolve) => holder.stdout!.once('data', resolve));
      const root = mkdtempSync(join(tmpdir(), 'tm-adv-up-'));
      roots.push(root);
      const refused = spawn(process.execPath, [TM_BIN, 'up'], {
        cwd: repoRoot,
        env: {
          ...process.env,
          TM_UP_STATE_DIR: join(root, '.tm'),
          TM_UP_PORT: String(holderPort),
          TM_UP_S3_PORT: String(await freePort()),
          TM_UP_AGENT_PORTS: String(await freePort()),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let text = '';
      refused.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
      refused.stderr.on('data', (chunk: Buffer) => (text += chunk.toString()));
      const code = await new Promise<number | null>((resolve) => refused.once('exit', resolve));
      expect(code).not.toBe(0);
      expect(text).toContain(
        `port ${holderPort} (the control plane) is taken by pid ${holder.pid} (`,
      );
      expect(text).toContain(`createServer().listen(${holderPort}`);
      expect(text).not.toMatch(/starting the control plane/);
    } finally {
      holder.kill('SIGKILL');
    }
  });
});
