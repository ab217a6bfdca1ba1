/** A local stack for a benchmark run: temp state, free ports, N agents; removed afterwards unless the run failed. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startStack, type Stack } from '../../cli/local/stack.ts';
import { freePort } from '../../cli/local/ports.ts';

export async function withTempStack<T>(
  options: { agents: number; slots?: number; vars?: Record<string, string> },
  body: (stack: Stack) => Promise<T>,
): Promise<T> {
  const stateDir = mkdtempSync(join(tmpdir(), 'tm-bench-'));
  const agentPorts = await Promise.all(Array.from({ length: options.agents }, () => freePort()));
  const stack = await startStack({
    stateDir,
    port: await freePort(),
    agentPorts,
    ...(options.slots ? { agentSlots: options.slots } : {}),
    ...(options.vars ? { vars: options.vars } : {}),
  });
  let failed = true;
  try {
    const result = await body(stack);
    failed = false;
    return result;
  } finally {
    await stack.stop();
    // A failed run keeps its state for the logs of the control plane and the agents.
    if (failed) console.error(`bench: kept ${stateDir} (logs/) for a look at the failure`);
    else rmSync(stateDir, { recursive: true, force: true });
  }
}
