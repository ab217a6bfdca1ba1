/** Pure cutting of assignments into `assign` frames that each stay within the frame size. */
import { MAX_FRAME_BYTES, MAX_TASKS_PER_FRAME, type Assignment } from '../protocol/index.ts';
import { jsonBytes } from '../protocol/index.ts';

/** Room for a frame's assignments; the rest of MAX_FRAME_BYTES covers the envelope. */
export const ASSIGN_BUDGET_BYTES = MAX_FRAME_BYTES - 4096;

/** An assignment that no frame can carry, with its size as JSON. */
export interface OversizedAssignment {
  task: Assignment;
  bytes: number;
}

/**
 * Groups assignments in order, at most MAX_TASKS_PER_FRAME and `budget` bytes of JSON per
 * group: an agent refuses a frame over MAX_FRAME_BYTES, so big specs (pipeline steps and data)
 * travel in more, smaller frames. An assignment over `budget` on its own fits no frame: it is
 * set apart in `oversized`, never sent, for the Scheduler to fail.
 */
export function assignBatches(
  tasks: readonly Assignment[],
  budget: number = ASSIGN_BUDGET_BYTES,
): { batches: Assignment[][]; oversized: OversizedAssignment[] } {
  const batches: Assignment[][] = [];
  const oversized: OversizedAssignment[] = [];
  let current: Assignment[] = [];
  let bytes = 0;
  for (const task of tasks) {
    const size = jsonBytes(task) + 1;
    if (size > budget) {
      oversized.push({ task, bytes: size - 1 });
      continue;
    }
    if (current.length > 0 && (current.length >= MAX_TASKS_PER_FRAME || bytes + size > budget)) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(task);
    bytes += size;
  }
  if (current.length > 0) batches.push(current);
  return { batches, oversized };
}
