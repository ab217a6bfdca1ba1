/** Runs a real agent process (`tm-agent`) against a control plane. */
import { dirname, join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { startChild, type Child } from './child.ts';
import { waitForHttp } from './ports.ts';
import { agentBin } from './agent-build.ts';
import { examplesDir, repoRoot } from './repo.ts';
import { loadIdentity } from '../../worker-agent/identity.ts';

export interface AgentOptions {
  controlPlane: string;
  tokenFile: string;
  address: string;
  logDir: string;
  workDir?: string;
  /**
   * The agent's key file (default: `agent-keys/<address>.pem` beside the log dir, so an agent
   * started again at an address keeps its key, and nothing is written under $HOME).
   */
  keyFile?: string;
  /** The agent's block cache (default: `agent-caches/<address>` beside the log dir, like the key). */
  cacheDir?: string;
  slots?: number;
  extraArgs?: string[];
  /** Runs the agent under this command, e.g. `['ip', 'netns', 'exec', name]` (default: none). */
  prefix?: string[];
}

export interface AgentProcess extends Child {
  address: string;
  healthUrl: string;
  /** Where the agent's output (JSON log lines) goes. */
  logFile: string;
  keyFile: string;
}

export async function startAgent(options: AgentOptions): Promise<AgentProcess> {
  mkdirSync(options.logDir, { recursive: true });
  const keyFile = options.keyFile ?? agentKeyFile(dirname(options.logDir), options.address);
  const cacheDir = options.cacheDir ?? agentCacheDir(dirname(options.logDir), options.address);
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
    '--key-file',
    keyFile,
    '--cache-dir',
    cacheDir,
    ...(options.slots ? ['--slots', String(options.slots)] : []),
    ...(options.extraArgs ?? []),
  ];
  // With a prefix, the prefix's program runs node, which runs the agent.
  const argv = [...(options.prefix ?? []), process.execPath, ...args];
  const logFile = join(
    options.logDir,
    `agent-${options.address.replace(/[^A-Za-z0-9]+/g, '-')}.log`,
  );
  const child = startChild(argv[0] ?? process.execPath, argv.slice(1), {
    cwd: repoRoot,
    env: process.env,
    logFile,
  });
  const healthUrl = `http://${options.address}/healthz`;
  await waitForHttp(healthUrl, 30_000, child.alive);
  return { ...child, address: options.address, healthUrl, logFile, keyFile };
}

/** Where a local stack keeps the key of the agent at `address`, under its state dir. */
export function agentKeyFile(stateDir: string, address: string): string {
  return join(stateDir, 'agent-keys', `${fileSafe(address)}.pem`);
}

/**
 * Makes the agent's key file if it has none, as the agent would (`tm-agent --print-fingerprint`),
 * and returns its fingerprint: the local stack registers each worker with it, so its agent is
 * approved from its first hello.
 */
export function agentFingerprint(keyFile: string): string {
  return loadIdentity(keyFile).identity.fingerprint;
}

/** Where a local stack keeps the block cache of the agent at `address`, under its state dir. */
export function agentCacheDir(stateDir: string, address: string): string {
  return join(stateDir, 'agent-caches', fileSafe(address));
}

const fileSafe = (address: string) => address.replace(/[^A-Za-z0-9.-]+/g, '_');
