/** Start-time fair queueing between tenants: a pure ordering of the queues' heads. */
import { describe, expect, it } from 'vitest';
import {
  charge,
  fairOrder,
  newFairClock,
  type FairClock,
} from '../../durable-objects/fair-share.ts';

/** A queue of `n` tasks named `<key><i>`, with seqs from `firstSeq`. */
function queue(key: string, n: number, firstSeq: number, weight = 1) {
  const tasks = Array.from({ length: n }, (_, i) => ({
    seq: firstSeq + i,
    key,
    name: `${key}${i}`,
  }));
  return { key, weight, tasks };
}

/** Gives out one task at a time, as a cluster with one free slot per round would. */
function serve(
  queues: ReturnType<typeof queue>[],
  rounds: number,
  clock: FairClock = newFairClock(),
) {
  const given: string[] = [];
  for (let round = 0; round < rounds; round++) {
    const remaining = queues.map((q) => ({
      ...q,
      tasks: q.tasks.filter((t) => !given.includes(t.name)),
    }));
    const [task] = fairOrder(remaining, 1, clock);
    if (!task) break;
    given.push(task.name);
    charge(clock, [{ key: task.key, weight: queues.find((q) => q.key === task.key)!.weight }]);
  }
  return given;
}

describe('fair order', () => {
  it('alternates between equal tenants even when one queued far more, far earlier', () => {
    expect(serve([queue('a', 1000, 1), queue('b', 3, 5000)], 6)).toEqual([
      'a0',
      'b0',
      'a1',
      'b1',
      'a2',
      'b2',
    ]);
  });

  it('gives each tenant tasks in proportion to its weight', () => {
    const given = serve([queue('h', 100, 1, 3), queue('l', 100, 2, 1)], 40);
    expect(given.filter((name) => name.startsWith('h'))).toHaveLength(30);
    expect(given.filter((name) => name.startsWith('l'))).toHaveLength(10);
  });

  it('gives a tenant that was idle no credit for the time it was away', () => {
    const clock = newFairClock();
    serve([queue('a', 50, 1)], 50, clock);
    // b arrives after a had 50 tasks alone: it shares from now on, it does not get 50 in a row.
    const next = serve([queue('a', 10, 100), queue('b', 10, 200)], 6, clock);
    expect(next.filter((name) => name.startsWith('a')).length).toBeGreaterThanOrEqual(2);
    expect(next.filter((name) => name.startsWith('b')).length).toBeGreaterThanOrEqual(2);
  });

  it('orders a whole round fairly, first in, first out within a tenant', () => {
    const order = fairOrder([queue('a', 3, 1), queue('b', 1, 2)], 10, newFairClock());
    expect(order.map((t) => t.name)).toEqual(['a0', 'b0', 'a1', 'a2']);
    expect(fairOrder([queue('a', 5, 1)], 0, newFairClock())).toEqual([]);
    expect(fairOrder([], 5, newFairClock())).toEqual([]);
  });
});
