/**
 * Where an agent writes its dataflow tasks' input folders: one folder per agent process,
 * `<tmp>/tm-inputs-<pid>-XXXXXX` (mkdtemp: a random name, mode 0700), removed when the process
 * exits; the folder of an agent killed first (SIGKILL skips the exit) is removed at the next
 * start of an agent of this user, found by its pid being gone. Agents that share a /tmp share a
 * PID namespace here (a container has its own /tmp, and systemd's PrivateTmp= one per service).
 */
import { lstatSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const NAME = /^tm-inputs-(\d+)-/;
let root: string | null = null;

/** This process's folder for input folders, made at its first use. */
export function inputsRoot(tmp = tmpdir()): string {
  if (root !== null) return root;
  const made = mkdtempSync(join(tmp, `tm-inputs-${process.pid}-`));
  process.once('exit', () => rmSync(made, { recursive: true, force: true }));
  root = made;
  return made;
}

/** Removes the input folders, of this user, of agents whose process is gone; returns how many. */
export function sweepInputRoots(tmp = tmpdir()): number {
  const uid = typeof process.getuid === 'function' ? process.getuid() : null;
  let removed = 0;
  for (const name of readdirSync(tmp)) {
    const pid = NAME.exec(name)?.[1];
    if (pid === undefined || alive(Number(pid))) continue;
    const path = join(tmp, name);
    const stat = lstatSync(path, { throwIfNoEntry: false });
    if (!stat?.isDirectory() || (uid !== null && stat.uid !== uid)) continue;
    rmSync(path, { recursive: true, force: true });
    removed++;
  }
  return removed;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
