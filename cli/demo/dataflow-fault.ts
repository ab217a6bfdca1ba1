/**
 * The dataflow demo's fault: once the whole stream group has run a while, SIGKILL the agent that
 * runs the most of its instances, then start it again at the same address (the same worker).
 */
import type { JobView } from '../../protocol/index.ts';
import type { Stack } from '../local/stack.ts';
import { label } from './dataflow-logs.ts';

export interface Victim {
  address: string;
  /** The instances it ran when killed, e.g. `binlog#1`. */
  instances: string[];
}

/** The agent of this stack running the most of the job's instances, with their labels. */
export async function pickVictim(stack: Stack, job: JobView): Promise<Victim | null> {
  const byWorker = new Map<string, string[]>();
  for (const task of job.tasks ?? [])
    if (task.state === 'running' && task.workerId)
      byWorker.set(task.workerId, [...(byWorker.get(task.workerId) ?? []), label(task)]);
  const [workerId, instances] = [...byWorker].sort((a, b) => b[1].length - a[1].length)[0] ?? [];
  if (!workerId || !instances) return null;
  const { address } = await stack.client.getWorker(workerId);
  return stack.agents.some((a) => a.address === address && a.alive())
    ? { address, instances }
    : null;
}

/** SIGKILLs the victim's agent (its tasks die with it), waits for it to exit, starts it again. */
export async function killAndRestart(
  stack: Stack,
  victim: Victim,
  say: (line: string) => void,
): Promise<void> {
  const agent = stack.agents.find((a) => a.address === victim.address && a.alive());
  if (!agent) return;
  agent.signal('SIGKILL');
  await agent.exited;
  stack.agents.splice(stack.agents.indexOf(agent), 1);
  say(`SIGKILLed the agent at ${victim.address}, which ran ${victim.instances.join(', ')}`);
  await stack.addAgent(victim.address);
  say(`the agent at ${victim.address} runs again (the same worker)`);
}
