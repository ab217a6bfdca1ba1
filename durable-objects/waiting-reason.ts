/** Why a queued pipeline task is not running yet, in words an operator can act on. */

export interface WaitingInput {
  /** Executors the task needs, all on one agent. */
  requires: readonly string[];
  /** Executors of each connected agent that takes tasks. */
  agents: readonly (readonly string[])[];
  /** End of the retry backoff the task waits out, if any. */
  notBefore: number | null;
  now: number;
  /** Tasks of its pipeline running now, and how many may. */
  running: number;
  maxConcurrency: number;
}

const list = (names: readonly string[]) => names.join(', ');

export function waitingReason(input: WaitingInput): string {
  if (input.notBefore !== null && input.notBefore > input.now) {
    return `waiting out its retry backoff until ${new Date(input.notBefore).toISOString()}`;
  }
  const has = (agent: readonly string[], name: string) => agent.includes(name);
  const capable = input.agents.filter((agent) => input.requires.every((name) => has(agent, name)));
  if (capable.length === 0) {
    const missing = input.requires.filter((name) => !input.agents.some((a) => has(a, name)));
    if (missing.length === 1) return `no ready agent has executor ${missing[0]}`;
    if (missing.length > 1) return `no ready agent has executors ${list(missing)}`;
    return (
      `no ready agent has all of the executors ${list(input.requires)}; ` +
      'every step of a task runs on one agent'
    );
  }
  if (input.running >= input.maxConcurrency) {
    return `the pipeline runs at most ${input.maxConcurrency} tasks at once (maxConcurrency), and ${input.running} are running`;
  }
  const agents = capable.length === 1 ? '1 agent' : `${capable.length} agents`;
  return `waiting for a free slot: ${agents} can run it`;
}
