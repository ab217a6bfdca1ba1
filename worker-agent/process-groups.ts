/** The process groups of running command tasks, so that no exit path leaves one behind. */

const live = new Set<number>();

/** Remembers a task's process group (its leader's pid; tasks are spawned detached). */
export function trackGroup(pid: number): void {
  live.add(pid);
}

export function untrackGroup(pid: number): void {
  live.delete(pid);
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
  for (const pid of live) if (signalGroup(pid, signal)) signalled++;
  return signalled;
}

export function liveGroupCount(): number {
  return live.size;
}
