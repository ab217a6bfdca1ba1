/** Cutting assignments into frames: order kept, task and byte limits respected, big ones alone. */
import { describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { assignBatches } from '../../durable-objects/assign-batches.ts';
import { MAX_TASKS_PER_FRAME, type Assignment } from '../../protocol/index.ts';

const echo = (payload: string): Assignment => ({
  taskId: randomUUID(),
  jobId: randomUUID(),
  attempt: 1,
  spec: { kind: 'echo', payload },
  tenant: null,
});
const bytes = (tasks: Assignment[]) => Buffer.byteLength(JSON.stringify({ type: 'assign', tasks }));

describe('assignBatches', () => {
  it('keeps small assignments together, up to the task limit, in order', () => {
    const tasks = Array.from({ length: MAX_TASKS_PER_FRAME + 5 }, (_, i) => echo(String(i)));
    const batches = assignBatches(tasks);
    expect(batches.map((b) => b.length)).toEqual([MAX_TASKS_PER_FRAME, 5]);
    expect(batches.flat()).toEqual(tasks);
  });

  it('starts a new frame before the bytes would pass the budget', () => {
    const tasks = Array.from({ length: 10 }, () => echo('x'.repeat(300 * 1024)));
    const batches = assignBatches(tasks);
    expect(batches.map((b) => b.length)).toEqual([3, 3, 3, 1]);
    for (const batch of batches) expect(bytes(batch)).toBeLessThan(1024 * 1024);
    expect(batches.flat()).toEqual(tasks);
  });

  it('sends an assignment larger than the budget alone', () => {
    const tasks = [echo('a'), echo('x'.repeat(2000)), echo('b')];
    expect(assignBatches(tasks, 1000).map((b) => b.length)).toEqual([1, 1, 1]);
    expect(assignBatches([], 1000)).toEqual([]);
  });
});
