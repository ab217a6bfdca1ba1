/** Shared helpers for the agent's unit tests: process liveness, process groups, polling. */
import { readFileSync, readdirSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import type { Assignment, TaskSpec } from '../../protocol/index.ts';
import { eventually as waitUntil } from '../support/wait.ts';

/** Live (non-zombie) pids whose process group is `pgid`. */
export function groupMembers(pgid: number): number[] {
  const members: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Fields after the command name, which is in parentheses and may hold spaces.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (fields[0] !== 'Z' && Number(fields[2]) === pgid) members.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return members;
}

/** The agent tests' polling: short, since everything they wait for is local and quick. */
export const eventually = <T>(
  probe: () => T | undefined | Promise<T | undefined>,
  what: string,
  timeoutMs = 5000,
) => waitUntil(probe, what, { timeoutMs, intervalMs: 25 });

export function assignment(
  spec: TaskSpec,
  attempt = 1,
  taskId: string = randomUUID(),
  tenant: string | null = null,
): Assignment {
  return { taskId, jobId: randomUUID(), attempt, spec, tenant };
}

export function commandSpec(
  command: string | string[],
  extra: Partial<Extract<TaskSpec, { kind: 'command' }>> = {},
): Extract<TaskSpec, { kind: 'command' }> {
  return { kind: 'command', command, path: '.', env: {}, ...extra };
}
