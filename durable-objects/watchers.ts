/** In-memory watchers of a Scheduler: live log followers and callers waiting for a job to end. */
import type { StoredLogEntry } from './task-logs.ts';

/**
 * One open log stream: woken when output arrives (it reads the output itself, see follow.ts),
 * and told the state its task or job ended in.
 */
export interface Follower {
  wake(): void;
  end(state: string): void;
}

export const taskKey = (id: string) => `task:${id}`;
export const jobKey = (id: string) => `job:${id}`;

export class Watchers {
  private readonly byKey = new Map<string, Set<Follower>>();
  private readonly waiters = new Map<string, Set<() => void>>();
  private count = 0;

  /** Subscribes `follower` to `key`; returns how to unsubscribe it (safe to call again). */
  follow(key: string, follower: Follower): () => void {
    const set = this.byKey.get(key) ?? new Set();
    set.add(follower);
    this.byKey.set(key, set);
    this.count++;
    return () => {
      if (!set.delete(follower)) return;
      this.count--;
      if (set.size === 0 && this.byKey.get(key) === set) this.byKey.delete(key);
    };
  }

  /** How many followers `key` has, or without a key how many there are in all. */
  followers(key?: string): number {
    return key === undefined ? this.count : (this.byKey.get(key)?.size ?? 0);
  }

  /** New output was stored: its tasks' and jobs' followers read it. */
  publish(entries: readonly StoredLogEntry[]): void {
    const keys = new Set(entries.flatMap((entry) => [taskKey(entry.taskId), jobKey(entry.jobId)]));
    for (const key of keys) for (const follower of this.byKey.get(key) ?? []) follower.wake();
  }

  /**
   * Tells every follower of `key` the final state, and lets them all go: each ends its stream
   * after what is stored, whether or not its reader is still there to read it.
   */
  end(key: string, state: string): void {
    const set = this.byKey.get(key);
    if (!set) return;
    this.byKey.delete(key);
    this.count -= set.size;
    const ending = [...set];
    set.clear();
    for (const follower of ending) follower.end(state);
  }

  jobEnded(jobId: string, state: string): void {
    this.end(jobKey(jobId), state);
    for (const resolve of this.waiters.get(jobId) ?? []) resolve();
    this.waiters.delete(jobId);
  }

  /** Resolves when the job ends or after `ms`, whichever comes first. */
  waitForJob(jobId: string, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const set = this.waiters.get(jobId) ?? new Set();
      const done = () => {
        clearTimeout(timer);
        set.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      set.add(done);
      this.waiters.set(jobId, set);
    });
  }
}
