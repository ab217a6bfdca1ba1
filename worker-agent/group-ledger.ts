/**
 * A file listing the process groups of this agent's running commands, so that an agent that
 * comes back after a crash or SIGKILL (same address, same machine) can stop what its predecessor
 * left running: those attempts belong to nobody now, and the control plane runs them again.
 */
import { lstatSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { agentRuntimeDir, ensurePrivateDir } from './private-dir.ts';

export interface LedgerEntry {
  pid: number;
  /** The process's start time from /proc, so a recycled pid is never mistaken for ours. */
  startTime: string;
}

/**
 * Where the agent at `address` keeps its ledger: under this user's runtime dir (private-dir.ts),
 * never a shared /tmp path another user could have made first.
 */
export function ledgerPath(address: string, root = agentRuntimeDir()): string {
  return join(root, address.replace(/[^A-Za-z0-9.-]+/g, '_'), 'task-groups.json');
}

/** The start time of `pid` (field 22 of /proc/PID/stat), or null when it is gone or unknown. */
export function processStartTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may hold spaces and parentheses: the fields start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19] ?? null;
  } catch {
    return null;
  }
}

/** The entries of the ledger in `file`; none when it is missing, corrupt, or not our own file. */
export function readLedger(file: string, uid = myUid()): LedgerEntry[] {
  try {
    // Pids from a file someone else wrote would be killed on our behalf: only our own counts.
    const stat = lstatSync(file);
    if (!stat.isFile() || (uid !== null && stat.uid !== uid)) return [];
    const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
    return Array.isArray(parsed) ? parsed.filter(isEntry) : [];
  } catch {
    return [];
  }
}

function isEntry(value: unknown): value is LedgerEntry {
  const entry = value as Partial<LedgerEntry> | null;
  return typeof entry?.pid === 'number' && typeof entry.startTime === 'string';
}

const myUid = () => (typeof process.getuid === 'function' ? process.getuid() : null);

/** Replaces the ledger atomically (write, then rename), so a crash never leaves half a file. */
export function writeLedger(file: string, entries: readonly LedgerEntry[]): void {
  ensurePrivateDir(dirname(dirname(file)));
  ensurePrivateDir(dirname(file));
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, JSON.stringify(entries), { mode: 0o600 });
  renameSync(temp, file);
}

/** The entries whose process still runs as the same process (same pid, same start time). */
export function survivors(entries: readonly LedgerEntry[]): LedgerEntry[] {
  return entries.filter((entry) => processStartTime(entry.pid) === entry.startTime);
}
