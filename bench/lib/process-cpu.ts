/** CPU time a process has used so far (Linux /proc), to tell what a restart costs the machine. */
import { readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat: 100 on every Linux this runs on. */
const TICKS_PER_SECOND = 100;

/** User plus system CPU seconds of `pid`, or NaN where /proc cannot tell. */
export function cpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start at field 3; utime, stime are 14, 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return NaN;
  }
}
