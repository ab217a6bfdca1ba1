/** Input folders of agents: one per process, and those of agents gone swept at the next start. */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { sweepInputRoots } from '../../worker-agent/inputs-root.ts';

let tmp: string;
afterEach(() => rmSync(tmp, { recursive: true, force: true }));

describe('sweepInputRoots', () => {
  it("removes a dead agent's folder, and keeps a live one's and anything else", () => {
    tmp = mkdtempSync(join(tmpdir(), 'tm-sweep-'));
    const dead = spawnSync('true').pid!;
    const gone = join(tmp, `tm-inputs-${dead}-abc123`);
    mkdirSync(join(gone, 'task-x', 'split'), { recursive: true });
    writeFileSync(join(gone, 'task-x', 'split', '0'), 'left behind by a SIGKILL');
    const live = join(tmp, `tm-inputs-${process.pid}-def456`);
    mkdirSync(live);
    const file = join(tmp, `tm-inputs-${dead}-not-a-dir`);
    writeFileSync(file, '');
    const other = join(tmp, 'tm-inputs-xyz');
    mkdirSync(other);

    expect(sweepInputRoots(tmp)).toBe(1);
    expect(existsSync(gone)).toBe(false);
    expect([live, file, other].every((path) => existsSync(path))).toBe(true);
  });
});
