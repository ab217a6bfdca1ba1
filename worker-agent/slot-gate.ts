/**
 * When a task may start on the agent. The Scheduler counts slots and usually assigns only what
 * fits, so most tasks start at once; but it may hand an agent one map task beyond its free slots
 * (`Assignment.startBelow`), so that the next map starts the moment one ends instead of a round
 * trip later. That task waits here until fewer than `startBelow` slot-using tasks run.
 */
export class SlotGate {
  private running = 0;
  private readonly waiting: Array<{ limit: number; admit: () => void }> = [];

  /** Resolves true once fewer than `limit` slot-using tasks run (this one then counts), false if `signal` aborts first. */
  enter(limit: number, signal: AbortSignal): Promise<boolean> {
    if (signal.aborted) return Promise.resolve(false);
    if (this.running < limit) {
      this.running++;
      return Promise.resolve(true);
    }
    return new Promise((resolve) => {
      const entry = {
        limit,
        admit: () => {
          signal.removeEventListener('abort', giveUp);
          this.running++;
          resolve(true);
        },
      };
      const giveUp = () => {
        this.waiting.splice(this.waiting.indexOf(entry), 1);
        resolve(false);
      };
      signal.addEventListener('abort', giveUp, { once: true });
      this.waiting.push(entry);
    });
  }

  /** A slot-using task ended: the waiting ones that now fit start, oldest first. */
  leave(): void {
    this.running--;
    this.admitWaiting();
  }

  /** Tasks waiting to start. */
  get queued(): number {
    return this.waiting.length;
  }

  private admitWaiting(): void {
    for (let i = 0; i < this.waiting.length;) {
      const entry = this.waiting[i]!;
      if (this.running >= entry.limit) {
        i++;
        continue;
      }
      this.waiting.splice(i, 1);
      entry.admit();
    }
  }
}
