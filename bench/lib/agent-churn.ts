/** Killing agents of a local stack and bringing them back at the same address, once or on a beat. */
import { setTimeout as sleep } from 'node:timers/promises';
import type { AgentProcess } from '../../cli/local/agent-process.ts';
import type { Stack } from '../../cli/local/stack.ts';
import { cpuSeconds } from './process-cpu.ts';

/** The stack's agent that runs `workerId`'s connection. */
export async function agentOf(stack: Stack, workerId: string): Promise<AgentProcess> {
  const { address } = await stack.client.getWorker(workerId);
  const agent = stack.agents.find((a) => a.address === address);
  if (!agent) throw new Error(`no agent of this stack serves worker ${address}`);
  return agent;
}

/** SIGKILLs `agent` (stopped or not), drops it from the stack and starts a new one at its address. */
export async function replaceAgent(stack: Stack, agent: AgentProcess): Promise<AgentProcess> {
  agent.signal('SIGKILL');
  await agent.exited;
  stack.agents.splice(stack.agents.indexOf(agent), 1);
  return stack.addAgent(agent.address);
}

export interface Restart {
  /** Kill → the new agent serving /healthz. */
  millis: number;
  /** CPU the new agent process used to get there. */
  cpuSeconds: number;
}

/** On a beat of `everyMs` until `signal` fires, SIGKILLs the longest-lived agent and restarts it. */
export async function churnAgents(
  stack: Stack,
  everyMs: number,
  signal: AbortSignal,
): Promise<Restart[]> {
  const restarts: Restart[] = [];
  const start = performance.now();
  for (let beat = 1; ; beat++) {
    try {
      // Beats are fixed, so a slow restart does not stretch the period.
      await sleep(Math.max(0, start + beat * everyMs - performance.now()), undefined, { signal });
    } catch {
      return restarts; // Aborted: the load is over.
    }
    const victim = stack.agents[0];
    if (!victim) throw new Error('no agent left to kill');
    const started = performance.now();
    const fresh = await replaceAgent(stack, victim);
    restarts.push({
      millis: performance.now() - started,
      cpuSeconds: cpuSeconds(fresh.process.pid),
    });
  }
}
