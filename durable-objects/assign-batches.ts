/** Pure cutting of assignments into `assign` frames that each stay within the frame size. */
import { MAX_FRAME_BYTES, MAX_TASKS_PER_FRAME, type Assignment } from '../protocol/index.ts';

/** Room for a frame's assignments; the rest of MAX_FRAME_BYTES covers the envelope. */
export const ASSIGN_BUDGET_BYTES = MAX_FRAME_BYTES - 4096;

/**
 * Groups assignments in order, at most MAX_TASKS_PER_FRAME and `budget` bytes of JSON per
 * group: an agent drops its connection on a frame over MAX_FRAME_BYTES, so big specs (pipeline
 * steps and data) must travel in more, smaller frames.
 */
const encoder = new TextEncoder();

export function assignBatches(
  tasks: readonly Assignment[],
  budget: number = ASSIGN_BUDGET_BYTES,
): Assignment[][] {
  const batches: Assignment[][] = [];
  let current: Assignment[] = [];
  let bytes = 0;
  for (const task of tasks) {
    const size = encoder.encode(JSON.stringify(task)).byteLength + 1;
    if (current.length > 0 && (current.length >= MAX_TASKS_PER_FRAME || bytes + size > budget)) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(task);
    bytes += size;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}
