/** Runs a real agent process (`tm-agent`) against a control plane. */
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { startChild, type Child } from './child.ts';
import { waitForHttp } from './ports.ts';
import { agentBin, examplesDir, repoRoot } from './repo.ts';

export interface AgentOptions {
  controlPlane: string;
  tokenFile: string;
  address: string;
  logDir: string;
  workDir?: string;
  slots?: number;
  extraArgs?: string[];
}

export interface AgentProcess extends Child {
  address: string;
  healthUrl: string;
}

export async function startAgent(options: AgentOptions): Promise<AgentProcess> {
  mkdirSync(options.logDir, { recursive: true });
  const args = [
    agentBin,
    '--control-plane',
    options.controlPlane,
    '--token-file',
    options.tokenFile,
    '--address',
    options.address,
    '--work-dir',
    options.workDir ?? examplesDir,
    ...(options.slots ? ['--slots', String(options.slots)] : []),
    ...(options.extraArgs ?? []),
  ];
  const child = startChild(process.execPath, args, {
    cwd: repoRoot,
    env: process.env,
    logFile: join(options.logDir, `agent-${options.address.replace(/[^A-Za-z0-9]+/g, '-')}.log`),
  });
  const healthUrl = `http://${options.address}/healthz`;
  await waitForHttp(healthUrl, 30_000, child.alive);
  return { ...child, address: options.address, healthUrl };
}
