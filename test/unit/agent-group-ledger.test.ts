import { afterEach, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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
