/**
 * The process groups of running command tasks, so that no exit path leaves one behind: kept in
 * memory for this process's own exits, and in a ledger file for a successor after a SIGKILL.
 */
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

/** Signals every tracked group; synchronous, so it is safe in a process 'exit' handler. */
export function killAllGroups(signal: NodeJS.Signals = 'SIGKILL'): number {
  let signalled = 0;
  for (const pid of live.keys()) if (signalGroup(pid, signal)) signalled++;
  return signalled;
}

export function liveGroupCount(): number {
  return live.size;
}
