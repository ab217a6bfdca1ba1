/** Cutting assignments into frames: order kept, task and byte limits respected, big ones alone. */
import { describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { assignBatches } from '../../durable-objects/assign-batches.ts';
import { MAX_FRAME_BYTES, MAX_TASKS_PER_FRAME, type Assignment } from '../../protocol/index.ts';

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
    const { batches, oversized } = assignBatches(tasks);
    expect(oversized).toEqual([]);
    expect(batches.map((b) => b.length)).toEqual([MAX_TASKS_PER_FRAME, 5]);
    expect(batches.flat()).toEqual(tasks);
  });

  it('starts a new frame before the bytes would pass the budget', () => {
    const tasks = Array.from({ length: 10 }, () => echo('x'.repeat(300 * 1024)));
    const { batches } = assignBatches(tasks);
    expect(batches.map((b) => b.length)).toEqual([3, 3, 3, 1]);
    for (const batch of batches) expect(bytes(batch)).toBeLessThan(1024 * 1024);
    expect(batches.flat()).toEqual(tasks);
  });

  it('never sends an assignment larger than the budget: it is set apart, with its size', () => {
    const big = echo('x'.repeat(2000));
    const tasks = [echo('a'), big, echo('b')];
    const { batches, oversized } = assignBatches(tasks, 1000);
    expect(batches).toEqual([[tasks[0], tasks[2]]]);
    expect(oversized).toEqual([{ task: big, bytes: Buffer.byteLength(JSON.stringify(big)) }]);
    expect(assignBatches([], 1000)).toEqual({ batches: [], oversized: [] });
  });

  it('sets apart an assignment that no frame of MAX_FRAME_BYTES can carry', () => {
    const huge = echo('x'.repeat(MAX_FRAME_BYTES));
    const { batches, oversized } = assignBatches([huge, echo('ok')]);
    expect(batches.flat().map((t) => t.spec)).toEqual([{ kind: 'echo', payload: 'ok' }]);
    expect(oversized.map((o) => o.task)).toEqual([huge]);
  });
});
