/** CPU time of a process and all its descendants (Linux /proc): wrangler dev's workerd is a grandchild. */
import { readFileSync } from 'node:fs';
import { cpuSeconds } from './process-cpu.ts';

function children(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .split(' ')
      .filter((s) => s.trim() !== '')
      .map(Number);
  } catch {
    return [];
  }
}

/** `pid` and every live process under it. */
export function descendants(pid: number): number[] {
  return [pid, ...children(pid).flatMap(descendants)];
}

/** User plus system CPU seconds used so far by `pid` and its live descendants (NaN if unknown). */
export function treeCpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  return descendants(pid).reduce((sum, p) => sum + cpuSeconds(p), 0);
}
