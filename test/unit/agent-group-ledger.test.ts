import { afterEach, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ledgerPath,
  processStartTime,
  readLedger,
  survivors,
  writeLedger,
} from '../../worker-agent/group-ledger.ts';
import { trackGroup, untrackGroup, useLedger } from '../../worker-agent/process-groups.ts';
import { agentRuntimeDir, ensurePrivateDir } from '../../worker-agent/private-dir.ts';
import { agentTempDir } from '../../worker-agent/temp-dir.ts';
import { eventually, processAlive } from '../support/wait.ts';

const dirs: string[] = [];
const children: ChildProcess[] = [];

function tempLedger(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tm-ledger-'));
  dirs.push(dir);
  return ledgerPath('localhost:50051', dir);
}

/** A detached `sleep`, leader of its own process group, as the command executor starts tasks. */
function sleeper(): number {
  const child = spawn('sleep', ['30'], { detached: true, stdio: 'ignore' });
  children.push(child);
  return child.pid!;
}

afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('group ledger', () => {
  it('keeps one folder per address, with characters a path cannot hold replaced', () => {
    expect(ledgerPath('10.0.0.2:50051', '/state')).toBe('/state/10.0.0.2_50051/task-groups.json');
    expect(ledgerPath('../../etc:1', '/state')).toBe('/state/.._.._etc_1/task-groups.json');
  });

  it('reads back what it wrote, and nothing from a missing or corrupt file', () => {
    const file = tempLedger();
    expect(readLedger(file)).toEqual([]);
    writeLedger(file, [{ pid: 42, startTime: '123' }]);
    expect(readLedger(file)).toEqual([{ pid: 42, startTime: '123' }]);
    writeFileSync(file, '{not json');
    expect(readLedger(file)).toEqual([]);
    writeFileSync(file, JSON.stringify([{ pid: 'x' }, { pid: 7, startTime: '9' }]));
    expect(readLedger(file)).toEqual([{ pid: 7, startTime: '9' }]);
  });

  it('counts as a survivor only the same process: a recycled pid has another start time', () => {
    const pid = sleeper();
    const startTime = processStartTime(pid);
    expect(startTime).toMatch(/^\d+$/);
    expect(survivors([{ pid, startTime: startTime! }])).toHaveLength(1);
    expect(survivors([{ pid, startTime: '1' }])).toEqual([]);
  });

  it('stops the groups a previous agent left in the ledger, and records its own', async () => {
    const file = tempLedger();
    const orphan = sleeper();
    writeLedger(file, [{ pid: orphan, startTime: processStartTime(orphan)! }]);
    expect(useLedger(file)).toEqual([orphan]);
    await eventually(() => (processAlive(orphan) ? undefined : true), 'the orphan to die');
    expect(readLedger(file)).toEqual([]);

    const mine = sleeper();
    trackGroup(mine);
    expect(readLedger(file)).toEqual([{ pid: mine, startTime: processStartTime(mine) }]);
    untrackGroup(mine);
    expect(readLedger(file)).toEqual([]);
  });
});

describe('private folders for the ledger and scratch files', () => {
  const uid = process.getuid!();
  const mode = (path: string) => statSync(path).mode & 0o777;
  const scratch = () => {
    const dir = mkdtempSync(join(tmpdir(), 'tm-private-'));
    dirs.push(dir);
    return dir;
  };

  it("lives in this user's runtime dir, or a per-uid folder of the temp dir, made 0700", () => {
    const runtime = scratch();
    expect(agentRuntimeDir({ XDG_RUNTIME_DIR: runtime })).toBe(join(runtime, 'tm-agent'));
    const tmp = scratch();
    const dir = agentRuntimeDir({}, tmp);
    expect(dir).toBe(join(tmp, `tm-agent-${uid}`));
    expect(mode(dir)).toBe(0o700);
    expect(ledgerPath('localhost:1', dir).startsWith(dir)).toBe(true);
  });

  it('refuses a folder made by another user, a symlink, or a file, and closes a loose one', () => {
    const root = scratch();
    // Another user's folder, as that user would find ours: the same check with their uid.
    const mine = ensurePrivateDir(join(root, 'mine'), uid);
    expect(() => ensurePrivateDir(mine, uid + 4242)).toThrow(
      new RegExp(`belongs to uid ${uid}, not to this user`),
    );
    const link = join(root, 'link');
    symlinkSync(mine, link);
    expect(() => ensurePrivateDir(link, uid)).toThrow(/symbolic link/);
    const file = join(root, 'file');
    writeFileSync(file, '');
    expect(() => ensurePrivateDir(file, uid)).toThrow(/not a directory/);
    const loose = join(root, 'loose');
    mkdirSync(loose);
    chmodSync(loose, 0o777);
    ensurePrivateDir(loose, uid);
    expect(mode(loose)).toBe(0o700);
  });

  it('writes the ledger 0600 in 0700 folders, and ignores a ledger someone else wrote', () => {
    const file = tempLedger();
    writeLedger(file, [{ pid: 42, startTime: '1' }]);
    expect(mode(file)).toBe(0o600);
    expect(mode(join(file, '..'))).toBe(0o700);
    expect(readLedger(file)).toEqual([{ pid: 42, startTime: '1' }]);
    expect(readLedger(file, uid + 4242)).toEqual([]);
  });

  it('gives each agent process a new scratch folder, 0700, with an unpredictable name', () => {
    const a = agentTempDir();
    const b = agentTempDir();
    dirs.push(a, b);
    expect(a).not.toBe(b);
    expect(mode(a)).toBe(0o700);
    expect(statSync(a).uid).toBe(uid);
  });
});
