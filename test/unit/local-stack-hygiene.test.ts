/** The local stack's own hygiene: private state files, port holders, children's umask and stop. */
import { afterEach, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makePrivate } from '../../cli/local/private-files.ts';
import {
  describeTaken,
  listeningInodes,
  portHolders,
  refuseTakenPorts,
} from '../../cli/local/port-holders.ts';
import { refuseNewChildren, startChild, stopAllChildren } from '../../cli/local/child.ts';
import { localStackSettings } from '../../cli/commands/local-defaults.ts';
import { watchStopSignals } from '../../cli/local/stop-signals.ts';

const dirs: string[] = [];
const cleanups: Array<() => void> = [];
const temp = () => {
  const dir = mkdtempSync(join(tmpdir(), 'tm-hygiene-'));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
const mode = (path: string) => statSync(path).mode & 0o777;

describe('makePrivate', () => {
  it('takes group and other bits off every file and folder, and leaves symlinks and their targets alone', () => {
    const root = temp();
    const outside = join(temp(), 'outside.txt');
    writeFileSync(outside, 'x', { mode: 0o644 });
    const state = join(root, '.tm');
    mkdirSync(join(state, 'state', 'do'), { recursive: true, mode: 0o755 });
    writeFileSync(join(state, 'state', 'do', 'db.sqlite'), 'secret', { mode: 0o644 });
    writeFileSync(join(state, 'run.sh'), '#!/bin/sh\n', { mode: 0o755 });
    symlinkSync(outside, join(state, 'link'));

    const changed = makePrivate(state);
    expect(changed.length).toBe(5);
    expect(mode(state)).toBe(0o700);
    expect(mode(join(state, 'state'))).toBe(0o700);
    expect(mode(join(state, 'state', 'do', 'db.sqlite'))).toBe(0o600);
    expect(mode(join(state, 'run.sh'))).toBe(0o700);
    expect(mode(outside)).toBe(0o644);
    expect(makePrivate(state)).toEqual([]);
  });

  it('makes a missing state dir 0700', () => {
    const state = join(temp(), 'fresh', '.tm');
    makePrivate(state);
    expect(mode(state)).toBe(0o700);
  });
});

describe('port holders', () => {
  const table = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4242 1 0000000000000000 100 0 0 10 0
   1: 0100007F:1F90 0100007F:C350 01 00000000:00000000 00:00000000 00000000     0        0 4343 1 0000000000000000 20 4 30 10 -1
   2: 00000000:11D8 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 5151 1 0000000000000000 100 0 0 10 0`;

  it('reads the listening sockets of a port from /proc/net/tcp, not its connections', () => {
    expect(listeningInodes(table, 8080)).toEqual(['4242']);
    expect(listeningInodes(table, 4568)).toEqual(['5151']);
    expect(listeningInodes(table, 50051)).toEqual([]);
  });

  it('names the process listening on a port, and refuses to start beside it', async () => {
    const server: Server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => server.close());
    const port = (server.address() as { port: number }).port;
    const holders = portHolders(port);
    expect(holders).toEqual([{ pid: process.pid, command: expect.stringContaining('node') }]);
    await expect(refuseTakenPorts([{ port, what: 'the control plane' }])).rejects.toThrow(
      new RegExp(`port ${port} \\(the control plane\\) is taken by pid ${process.pid} \\(`),
    );
    server.close();
    await new Promise((resolve) => setTimeout(resolve, 10));
    await expect(refuseTakenPorts([{ port, what: 'the control plane' }])).resolves.toBe(undefined);
  });

  it('says only that a port is taken when it cannot see by whom', () => {
    expect(describeTaken(8080, 'the control plane', [])).toBe(
      'port 8080 (the control plane) is taken by another process',
    );
  });
});

describe('local stack settings', () => {
  it('takes the defaults, or each TM_UP_* variable, and refuses a bad port', () => {
    expect(localStackSettings({})).toMatchObject({ port: 8080, s3Port: 4568 });
    const env = {
      TM_UP_STATE_DIR: '/x/.tm',
      TM_UP_PORT: '18080',
      TM_UP_S3_PORT: '14568',
      TM_UP_AGENT_PORTS: '1, 2',
    };
    expect(localStackSettings(env)).toEqual({
      stateDir: '/x/.tm',
      port: 18080,
      s3Port: 14568,
      agentPorts: [1, 2],
    });
    expect(() => localStackSettings({ TM_UP_PORT: '80a' })).toThrow(/TM_UP_PORT/);
  });
});

describe('stop signals', () => {
  it('resolves on the first signal and only notes the later ones', async () => {
    const said: string[] = [];
    const others = new Set([...process.listeners('SIGINT'), ...process.listeners('SIGTERM')]);
    const signals = watchStopSignals((line) => said.push(line));
    cleanups.push(signals.dispose);
    // As a delivered signal calls them, with the signal's name; the test runner's own are left out.
    const deliver = (signal: NodeJS.Signals) =>
      process
        .listeners(signal)
        .filter((listener) => !others.has(listener))
        .forEach((listener) => listener(signal));
    deliver('SIGTERM');
    deliver('SIGINT');
    deliver('SIGINT');
    expect(await signals.first).toBe('SIGTERM');
    expect(said).toHaveLength(2);
    expect(said[0]).toMatch(/SIGINT again: still stopping/);
  });
});

describe('children of the local stack', () => {
  it('run with umask 077, so what they write is private', async () => {
    const dir = temp();
    const child = startChild('/bin/sh', ['-c', 'umask > umask.txt; echo x > made.txt'], {
      cwd: dir,
      env: process.env,
      logFile: join(dir, 'child.log'),
    });
    await child.exited;
    expect(readFileSync(join(dir, 'umask.txt'), 'utf8').trim()).toBe('0077');
    expect(mode(join(dir, 'made.txt'))).toBe(0o600);
    expect(mode(join(dir, 'child.log'))).toBe(0o600);
  });

  it('are all stopped at once, and none start once the stack is stopping', async () => {
    const dir = temp();
    const options = { cwd: dir, env: process.env, logFile: join(dir, 'child.log') };
    const sleepers = [startChild('sleep', ['30'], options), startChild('sleep', ['30'], options)];
    const stray: ChildProcess[] = [];
    cleanups.push(() => stray.forEach((c) => c.kill('SIGKILL')));
    await stopAllChildren(1000);
    expect(sleepers.map((c) => c.alive())).toEqual([false, false]);
    refuseNewChildren();
    expect(() => startChild('sleep', ['30'], options)).toThrow(/stopping/);
    stray.push(spawn('true'));
  });
});
