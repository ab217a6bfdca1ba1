/** SlotGate: tasks start below their limit, wait in order otherwise, and leave the queue when aborted. */
import { describe, expect, it } from 'vitest';
import { SlotGate } from '../../worker-agent/slot-gate.ts';

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('SlotGate', () => {
  it('lets tasks in below their limit and the waiting ones in, oldest first, as others leave', async () => {
    const gate = new SlotGate();
    const order: string[] = [];
    const enter = (name: string, limit: number) =>
      gate.enter(limit, new AbortController().signal).then((ok) => ok && order.push(name));
    void enter('a', 2);
    void enter('b', 2);
    void enter('c', 2);
    void enter('d', 2);
    void enter('free', Infinity);
    await tick();
    expect(order).toEqual(['a', 'b', 'free']);
    expect(gate.queued).toBe(2);
    gate.leave();
    await tick();
    // Two still run: c waits for fewer than 2.
    expect(order).toEqual(['a', 'b', 'free']);
    gate.leave();
    await tick();
    expect(order).toEqual(['a', 'b', 'free', 'c']);
    gate.leave();
    await tick();
    expect(order).toEqual(['a', 'b', 'free', 'c', 'd']);
    expect(gate.queued).toBe(0);
  });

  it('answers false to a waiting task whose signal aborts, and skips it', async () => {
    const gate = new SlotGate();
    expect(await gate.enter(1, new AbortController().signal)).toBe(true);
    const aborted = new AbortController();
    const waiting = gate.enter(1, aborted.signal);
    const next = gate.enter(1, new AbortController().signal);
    aborted.abort();
    expect(await waiting).toBe(false);
    expect(gate.queued).toBe(1);
    gate.leave();
    expect(await next).toBe(true);
    const already = new AbortController();
    already.abort();
    expect(await gate.enter(5, already.signal)).toBe(false);
  });
});
