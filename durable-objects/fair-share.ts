/**
 * Weighted fair sharing of the cluster between tenants, as start-time fair queueing: each tenant
 * has a virtual clock that advances by 1/weight for every task it is given, and the next task
 * comes from the tenant whose clock is furthest behind. A tenant that was idle rejoins at the
 * current virtual time, so it gets its share from now on but no credit for the time it was away.
 * One tenant flooding its queue delays only itself. Pure: the clock is the caller's to keep.
 */

export interface FairClock {
  /** Virtual start time of the last task given out. */
  now: number;
  /** Per tenant key: the virtual time at which its next task may start. */
  next: Map<string, number>;
}

export const newFairClock = (): FairClock => ({ now: 0, next: new Map() });

export interface TenantQueue<T extends { seq: number }> {
  key: string;
  /** Share under contention (tenants' `weight`; 1 for the admin's own jobs). */
  weight: number;
  /** Tasks queued for the tenant, oldest first. */
  tasks: readonly T[];
}

/**
 * Up to `limit` tasks in fair order: always from the tenant with the earliest virtual start (ties:
 * the oldest task), each tenant first in, first out. Reads the clock; `charge` advances it.
 */
export function fairOrder<T extends { seq: number }>(
  queues: readonly TenantQueue<T>[],
  limit: number,
  clock: FairClock,
): T[] {
  const cursors = queues.map((queue) => ({ queue, next: 0, start: startOf(clock, queue.key) }));
  const picked: T[] = [];
  while (picked.length < limit) {
    let best: (typeof cursors)[number] | undefined;
    for (const cursor of cursors) {
      const task = cursor.queue.tasks[cursor.next];
      if (!task) continue;
      const bestTask = best?.queue.tasks[best.next];
      if (!best || !bestTask || cursor.start < best.start) best = cursor;
      else if (cursor.start === best.start && task.seq < bestTask.seq) best = cursor;
    }
    const task = best?.queue.tasks[best.next];
    if (!best || !task) break;
    picked.push(task);
    best.next += 1;
    best.start += 1 / best.queue.weight;
  }
  return picked;
}

/** Advances the clock for tasks actually given out, in the order they were given. */
export function charge(clock: FairClock, given: readonly { key: string; weight: number }[]): void {
  for (const { key, weight } of given) {
    const start = startOf(clock, key);
    clock.now = start;
    clock.next.set(key, start + 1 / weight);
  }
}

function startOf(clock: FairClock, key: string): number {
  return Math.max(clock.next.get(key) ?? 0, clock.now);
}
