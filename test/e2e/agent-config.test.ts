/**
 * End to end: tm-agent started from a config file, as the systemd unit starts it. It reads its
 * join token from the file the config names, connects to the real stack and runs a command task;
 * a flag overrides the file; a config with an unknown key or a wrong type exits 78 naming the
 * key, before it connects, and so does one that asks for bwrap where bwrap cannot run.
 */
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentFingerprint } from '../../cli/local/agent-process.ts';
import { startChild } from '../../cli/local/child.ts';
import { freePort, waitForHttp } from '../../cli/local/ports.ts';
import { agentBin } from '../../cli/local/agent-build.ts';
import { repoRoot } from '../../cli/local/repo.ts';
import { startTestStack, type TestStack } from '../support/stack.ts';
import { eventually } from '../support/wait.ts';

let stack: TestStack;
let configDir: string;
beforeAll(async () => {
  stack = await startTestStack({ agents: 0 });
  configDir = join(stack.stateDir, 'etc-tm');
  mkdirSync(configDir, { mode: 0o700 });
  copyFileSync(stack.tokenFile, join(configDir, 'join-token'));
});
afterAll(async () => stack?.stop());

/** A config file for an agent at `address`: the token file named relative to the config. */
function writeConfig(name: string, address: string, extra = ''): string {
  const file = join(configDir, name);
  writeFileSync(
    file,
    [
      `control_plane = "${stack.url}"`,
      'token_file = "join-token"',
      `address = "${address}"`,
      `work_dir = "${stack.workDir}"`,
      `key_file = "keys/${address.replace(/\W/g, '_')}.pem"`,
      'cache_mb = 0',
      'slots = 1',
      'kill_grace_ms = 1000',
      extra,
    ].join('\n'),
  );
  return file;
}

/** Runs an agent that should refuse to start; its exit code and what it said. */
function refusedStart(args: string[], wrapper: string[] = []) {
  const [command, ...rest] = [...wrapper, process.execPath, agentBin, ...args];
  const child = spawn(command!, rest, {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (data: Buffer) => (output += data.toString()));
  child.stderr.on('data', (data: Buffer) => (output += data.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  return new Promise<{ code: number | null; output: string }>((resolve) =>
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    }),
  );
}

describe('tm-agent --config', () => {
  it('connects with the token file its config names, runs a command task, and a flag wins', async () => {
    const address = `localhost:${await freePort()}`;
    const config = writeConfig('agent.toml', address);
    const keyFile = join(configDir, 'keys', `${address.replace(/\W/g, '_')}.pem`);
    await stack.client.registerWorker({ address, fingerprint: agentFingerprint(keyFile) });
    const logFile = join(stack.stateDir, 'logs', 'agent-from-config.log');
    mkdirSync(join(stack.stateDir, 'logs'), { recursive: true });
    // Nothing but the config file and one flag: no token, control plane or address on argv.
    const child = startChild(process.execPath, [agentBin, '--config', config, '--slots', '3'], {
      cwd: repoRoot,
      env: { ...process.env, TM_JOIN_TOKEN: undefined },
      logFile,
    });
    stack.agents.push({
      ...child,
      address,
      healthUrl: `http://${address}/healthz`,
      logFile,
      keyFile,
    });
    await waitForHttp(`http://${address}/healthz`, 30_000, child.alive);

    const worker = await eventually(async () => {
      const found = (await stack.client.listWorkers()).find((w) => w.address === address);
      return found?.connected && found.state === 'ready' ? found : undefined;
    }, 'the agent started from its config to connect');
    // --slots 3 on the command line beat slots = 1 in the file.
    expect(worker.slots).toBe(3);
    const health = (await (await fetch(`http://${address}/healthz`)).json()) as { slots: number };
    expect(health.slots).toBe(3);

    const job = await stack.client.submitJob(
      { kind: 'command', command: 'echo "configured agent at $TM_WORKER_ADDRESS"' },
      30,
    );
    expect(job.state).toBe('succeeded');
    const { entries } = await stack.client.logs({ jobId: job.id });
    expect(entries.map((e) => e.data).join('')).toContain(`configured agent at ${address}`);
    // The log never carries the token it read.
    expect(readFileSync(logFile, 'utf8')).not.toContain(stack.token);
  });

  it('exits 78 on an unknown key or a wrong type, naming the key, before it connects', async () => {
    const cases: [string, string, RegExp][] = [
      ['unknown', 'slot = 4', /agent-unknown\.toml: unknown key slot/],
      [
        'wrong-type',
        'isolation = true',
        /agent-wrong-type\.toml: isolation: expected bwrap, none or auto, got a boolean/,
      ],
    ];
    for (const [name, line, said] of cases) {
      const address = `localhost:${await freePort()}`;
      const config = writeConfig(`agent-${name}.toml`, address, line);
      const { code, output } = await refusedStart(['--config', config]);
      expect(code).toBe(78);
      expect(output).toMatch(said);
      expect(output).not.toMatch(/connecting to the control plane/);
      const workers = await stack.client.listWorkers();
      expect(workers.find((w) => w.address === address)).toBeUndefined();
    }
  });

  it('refuses a join token on the command line, without echoing it', async () => {
    const { code, output } = await refusedStart([
      '--address',
      `localhost:${await freePort()}`,
      '--token',
      stack.token,
    ]);
    expect(code).toBe(2);
    expect(output).toMatch(/--token is not accepted: .*--token-file FILE, TM_JOIN_TOKEN/);
    expect(output).not.toContain(stack.token);
  });

  it('exits 78, not 1, when told to run tasks under bwrap and bwrap cannot run', async () => {
    const address = `localhost:${await freePort()}`;
    const config = writeConfig('agent-no-bwrap.toml', address, 'isolation = "bwrap"');
    // The agent runs where /usr/bin/bwrap is an empty file that cannot be run (bwrap hides itself).
    const bwrap = execFileSync('sh', ['-c', 'command -v bwrap'], { encoding: 'utf8' }).trim();
    const hidden = ['bwrap', '--dev-bind', '/', '/', '--ro-bind', '/dev/null', bwrap, '--'];
    const { code, output } = await refusedStart(['--config', config], hidden);
    expect(code).toBe(78);
    expect(output).toMatch(/bubblewrap does not work here: spawnSync bwrap EACCES/);
    expect(output).not.toMatch(/connecting to the control plane/);
  });
});
