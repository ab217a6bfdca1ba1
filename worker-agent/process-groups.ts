/**
 * The process groups of running command tasks, so that no exit path leaves one behind: kept in
 * memory for this process's own exits, and in a ledger file for a successor after a SIGKILL.
 */
import { readdirSync, readFileSync } from 'node:fs';
import {
  processStartTime,
  readLedger,
  survivors,
  writeLedger,
  type LedgerEntry,
} from './group-ledger.ts';

const live = new Map<number, LedgerEntry>();
let ledgerFile: string | null = null;

/**
 * Keeps the ledger in `file` from now on, after stopping the groups a previous agent with the
 * same ledger left running; returns their pids.
 */
export function useLedger(file: string): number[] {
  ledgerFile = file;
  const orphans = survivors(readLedger(file));
  for (const orphan of orphans) signalGroup(orphan.pid, 'SIGKILL');
  saveLedger();
  return orphans.map((orphan) => orphan.pid);
}

function saveLedger(): void {
  if (ledgerFile) writeLedger(ledgerFile, [...live.values()]);
}

/** Remembers a task's process group (its leader's pid; tasks are spawned detached). */
export function trackGroup(pid: number): void {
  const startTime = processStartTime(pid);
  live.set(pid, { pid, startTime: startTime ?? '' });
  if (startTime !== null) saveLedger();
}

export function untrackGroup(pid: number): void {
  if (live.delete(pid)) saveLedger();
}

/** Sends `signal` to every process in the group; false when the group is already gone. */
export function signalGroup(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    return false;
  }
}

/**
 * Sends `signal` to every process in the group but its leader; false when none was left. A
 * sandboxed task's leader is bwrap, which a SIGTERM would kill at once, and the sandbox with it:
 * sparing it gives the task its grace period, and bwrap still ends with the task.
 */
export function signalGroupMembers(pid: number, signal: NodeJS.Signals): boolean {
  let signalled = false;
  for (const member of groupMembers(pid)) {
    if (member === pid) continue;
    try {
      process.kill(member, signal);
      signalled = true;
    } catch {
      // Gone meanwhile.
    }
  }
  return signalled;
}

/** The pids whose process group is `pgid` (field 5 of /proc/PID/stat). */
function groupMembers(pgid: number): number[] {
  const members: number[] = [];
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return members;
  }
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // The command name may hold spaces and parentheses: the fields start after the last ')'.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) === pgid) members.push(Number(name));
    } catch {
      // Gone meanwhile.
    }
  }
  return members;
}

/** Signals every tracked group; synchronous, so it is safe in a process 'exit' handler. */
export function killAllGroups(signal: NodeJS.Signals = 'SIGKILL'): number {
  let signalled = 0;
  for (const pid of live.keys()) if (signalGroup(pid, signal)) signalled++;
  return signalled;
}

export function liveGroupCount(): number {
  return live.size;
}
