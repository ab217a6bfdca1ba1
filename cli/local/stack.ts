/** The local embedded stack: control plane, registered workers and their agent processes. */
import { join } from 'node:path';
import { startControlPlane, type ControlPlane } from './control-plane.ts';
import { startAgent, type AgentProcess } from './agent-process.ts';
import { ensureJoinToken } from './join-token.ts';
import { TmClient } from '../sdk/client.ts';

export interface StackOptions {
  stateDir: string;
  port: number;
  /** Ports of the local agents; each serves /healthz at localhost:PORT. */
  agentPorts: number[];
  agentSlots?: number;
  vars?: Record<string, string>;
  log?: (line: string) => void;
}

export interface Stack {
  url: string;
  client: TmClient;
  controlPlane: ControlPlane;
  agents: AgentProcess[];
  tokenFile: string;
  stop(): Promise<void>;
}

export async function startStack(options: StackOptions): Promise<Stack> {
  const log = options.log ?? (() => {});
  const { token, file: tokenFile } = ensureJoinToken(options.stateDir);
  log(`starting the control plane (wrangler dev) on http://localhost:${options.port} …`);
  const controlPlane = await startControlPlane({
    stateDir: options.stateDir,
    port: options.port,
    joinToken: token,
    vars: options.vars,
  });
  const client = new TmClient(controlPlane.url);
  const agents: AgentProcess[] = [];
  const stop = async () => {
    await Promise.all(agents.map((agent) => agent.stop(3000)));
    await controlPlane.stop();
  };
  try {
    for (const port of options.agentPorts) {
      const address = `localhost:${port}`;
      const { created } = await client.registerWorker({ address });
      log(`${created ? 'registered' : 'found'} worker ${address}; starting its agent …`);
      agents.push(
        await startAgent({
          controlPlane: controlPlane.url,
          tokenFile,
          address,
          logDir: join(options.stateDir, 'logs'),
          ...(options.agentSlots ? { slots: options.agentSlots } : {}),
        }),
      );
    }
    await waitForConnected(client, options.agentPorts.length);
  } catch (error) {
    await stop();
    throw error;
  }
  return { url: controlPlane.url, client, controlPlane, agents, tokenFile, stop };
}

/** Waits until `count` workers are connected and ready. */
export async function waitForConnected(
  client: TmClient,
  count: number,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ready = (await client.listWorkers()).filter((w) => w.connected && w.state === 'ready');
    if (ready.length >= count) return;
    if (Date.now() > deadline)
      throw new Error(`only ${ready.length} of ${count} workers connected within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
