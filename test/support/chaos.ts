/** A chaos monkey for end-to-end tests: SIGKILLs a random agent every few seconds and starts another. */
import type { TestStack } from './stack.ts';

export interface Chaos {
  /** Stops the monkey once its current round is over; resolves to how many agents it killed. */
  stop(): Promise<number>;
}

export function startChaos(stack: TestStack, everyMs: number): Chaos {
  let running = true;
  let kills = 0;
  const loop = (async () => {
    while (running) {
      await new Promise((resolve) => setTimeout(resolve, everyMs * (0.5 + Math.random())));
      if (!running) break;
      const victim = stack.agents[Math.floor(Math.random() * stack.agents.length)];
      if (!victim) continue;
      victim.signal('SIGKILL');
      await victim.exited;
      stack.agents.splice(stack.agents.indexOf(victim), 1);
      kills++;
      await stack.addAgent();
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return kills;
    },
  };
}
