/**
 * What an agent's stream tasks share: its data server, and the barriers they wait at, which the
 * Scheduler releases (`release` frames) once every instance of a stage has reached them.
 */
import type { TaskRef } from '../../protocol/index.ts';
import { DataServer } from './data-server.ts';

export class StreamHub {
  readonly server: DataServer;
  private readonly waiting = new Map<string, Map<string, () => void>>();

  constructor(
    host: string,
    /** Sends a `barrier` frame to the Scheduler. */
    private readonly announce: (task: TaskRef, name: string) => void,
  ) {
    this.server = new DataServer(host);
  }

  /** Resolves when the Scheduler releases `name` for this attempt. */
  barrier(task: TaskRef, name: string): Promise<void> {
    const key = refKey(task);
    return new Promise((resolve) => {
      const names = this.waiting.get(key) ?? new Map<string, () => void>();
      this.waiting.set(key, names);
      names.set(name, resolve);
      this.announce(task, name);
    });
  }

  /** Announces every barrier still waited at: the Scheduler counts an arrival once. */
  announceWaiting(): void {
    for (const [key, names] of this.waiting) {
      const [taskId = '', attempt = '0'] = key.split('/');
      for (const name of names.keys()) this.announce({ taskId, attempt: Number(attempt) }, name);
    }
  }

  release(tasks: readonly TaskRef[], name: string): void {
    for (const task of tasks) {
      const names = this.waiting.get(refKey(task));
      names?.get(name)?.();
      names?.delete(name);
    }
  }

  /** Forgets an attempt's barriers (it ended). */
  forget(task: TaskRef): void {
    this.waiting.delete(refKey(task));
  }
}

const refKey = (task: TaskRef) => `${task.taskId}/${task.attempt}`;
