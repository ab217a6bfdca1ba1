/**
 * What an agent's start costs: user + system CPU of the agent process from its spawn until it logs
 * that the control plane welcomed it, for the agent run from source through tsx (as it was before
 * packages/tm-agent) and for the built agent. Each start reuses one registered address and key.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { agentBin } from '../../cli/local/agent-build.ts';
import { agentFingerprint } from '../../cli/local/agent-process.ts';
import { freePort } from '../../cli/local/ports.ts';
import { examplesDir, repoRoot } from '../../cli/local/repo.ts';
import type { Stack } from '../../cli/local/stack.ts';
import { cpuSeconds } from './process-cpu.ts';

/** How the agent is started: node's arguments before the agent's own. */
export const AGENT_ENTRIES = {
  'from source through tsx': ['--import', 'tsx/esm', join(repoRoot, 'worker-agent', 'main.ts')],
  built: [agentBin],
} as const;
export type AgentEntry = keyof typeof AGENT_ENTRIES;

const READY_LINE = 'welcomed by the control plane';

/** CPU seconds of `runs` starts of each entry, alternating, so a drift in the machine's load evens out. */
export async function startupCpu(
  stack: Stack,
  runs: number,
): Promise<Record<AgentEntry, number[]>> {
  const dir = mkdtempSync(join(tmpdir(), 'tm-bench-startup-'));
  try {
    const address = `localhost:${await freePort()}`;
    const keyFile = join(dir, 'agent.pem');
    await stack.client.registerWorker({ address, fingerprint: agentFingerprint(keyFile) });
    const args = [
      ...['--control-plane', stack.url, '--token-file', stack.tokenFile, '--address', address],
      ...['--key-file', keyFile, '--cache-dir', join(dir, 'cache'), '--work-dir', examplesDir],
      ...['--slots', '1'],
    ];
    const samples: Record<AgentEntry, number[]> = { 'from source through tsx': [], built: [] };
    for (let run = 0; run < runs; run++) {
      for (const entry of Object.keys(AGENT_ENTRIES) as AgentEntry[]) {
        samples[entry].push(await startOnce([...AGENT_ENTRIES[entry], ...args]));
      }
    }
    return samples;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Starts the agent, reads its CPU once it is welcomed, and stops it (SIGTERM: it says bye). */
async function startOnce(args: string[]): Promise<number> {
  const child = spawn(process.execPath, args, {
    cwd: repoRoot,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  let output = '';
  try {
    // The agent logs JSON lines to stderr.
    for await (const line of createInterface({ input: child.stderr })) {
      if (line.includes(READY_LINE)) return cpuSeconds(child.pid);
      output += `${line}\n`;
    }
    throw new Error(`the agent ended before it was welcomed:\n${output}`);
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
}
