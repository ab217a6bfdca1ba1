/** In-memory watchers of a Scheduler: live log followers and callers waiting for a job to end. */
import type { LogEntry } from '../protocol/index.ts';
import type { StoredLogEntry } from './logs-store.ts';

/** One open log stream: NDJSON lines pushed as output arrives, ended when its task or job ends. */
export interface Follower {
  push(line: string): void;
  close(): void;
}

export const taskKey = (id: string) => `task:${id}`;
export const jobKey = (id: string) => `job:${id}`;

export class Watchers {
  private readonly followers = new Map<string, Set<Follower>>();
  private readonly waiters = new Map<string, Set<() => void>>();

  follow(key: string, follower: Follower): () => void {
    const set = this.followers.get(key) ?? new Set();
    set.add(follower);
    this.followers.set(key, set);
    return () => {
      set.delete(follower);
      if (set.size === 0) this.followers.delete(key);
    };
  }

  publish(entries: readonly StoredLogEntry[]): void {
    for (const { jobId, ...entry } of entries) {
      const line = JSON.stringify(entry satisfies LogEntry);
      for (const key of [taskKey(entry.taskId), jobKey(jobId)]) {
        for (const follower of this.followers.get(key) ?? []) follower.push(line);
      }
    }
  }

  /** Ends every follower of `key` with a closing line that names the final state. */
  end(key: string, state: string): void {
    const set = this.followers.get(key);
    if (!set) return;
    this.followers.delete(key);
    for (const follower of set) {
      follower.push(JSON.stringify({ end: true, state }));
      follower.close();
    }
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
