/** Pure batching of queued reports into as few wire frames as the protocol's limits allow. */
import {
  MAX_FRAME_BYTES,
  MAX_LOG_CHUNKS_PER_FRAME,
  MAX_TASKS_PER_FRAME,
} from '../protocol/index.ts';
import type { AgentFrame, CompleteFrame, FailFrame, TaskRef } from '../protocol/index.ts';
import type { LogChunk } from './task-outcome.ts';

export type CompleteItem = CompleteFrame['tasks'][number];
export type FailItem = FailFrame['tasks'][number];

/** One report that must reach the control plane. */
export type OutboxItem =
  | { kind: 'started'; task: TaskRef }
  | { kind: 'log'; task: TaskRef; chunks: LogChunk[] }
  | { kind: 'complete'; task: CompleteItem }
  | { kind: 'fail'; task: FailItem };

/** A frame to send and the items it carries (log items are re-cut to the frame's chunks). */
export interface OutboundFrame {
  frame: AgentFrame;
  items: OutboxItem[];
}

/** Room for a frame's items; the rest of MAX_FRAME_BYTES covers the envelope. */
export const FRAME_BUDGET_BYTES = MAX_FRAME_BYTES - 4096;

/**
 * Batches items into frames: all `started` first, then logs per task in order, then `complete`,
 * then `fail`. For any one task that keeps started → logs → end, the only order that matters.
 * Each frame holds at most MAX_TASKS_PER_FRAME tasks (or MAX_LOG_CHUNKS_PER_FRAME chunks) and
 * stays within `budget` bytes of JSON; a single item larger than the budget travels alone.
 */
export function coalesce(
  items: readonly OutboxItem[],
  budget: number = FRAME_BUDGET_BYTES,
): OutboundFrame[] {
  const started: Extract<OutboxItem, { kind: 'started' }>[] = [];
  const complete: Extract<OutboxItem, { kind: 'complete' }>[] = [];
  const fail: Extract<OutboxItem, { kind: 'fail' }>[] = [];
  const logs = new Map<string, { task: TaskRef; chunks: LogChunk[] }>();
  for (const item of items) {
    if (item.kind === 'started') started.push(item);
    else if (item.kind === 'complete') complete.push(item);
    else if (item.kind === 'fail') fail.push(item);
    else {
      const key = `${item.task.taskId}/${item.task.attempt}`;
      const entry = logs.get(key) ?? { task: item.task, chunks: [] };
      entry.chunks.push(...item.chunks);
      logs.set(key, entry);
    }
  }

  const frames: OutboundFrame[] = [];
  for (const group of cut(started, MAX_TASKS_PER_FRAME, budget, () => 64)) {
    const tasks = group.map((item) => item.task);
    frames.push({ frame: { type: 'started', tasks }, items: group });
  }
  for (const { task, chunks } of logs.values()) {
    for (const group of cut(chunks, MAX_LOG_CHUNKS_PER_FRAME, budget, chunkBytes)) {
      frames.push({
        frame: { type: 'log', taskId: task.taskId, attempt: task.attempt, chunks: group },
        items: [{ kind: 'log', task, chunks: group }],
      });
    }
  }
  for (const group of cut(complete, MAX_TASKS_PER_FRAME, budget, itemBytes)) {
    const tasks = group.map((item) => item.task);
    frames.push({ frame: { type: 'complete', tasks }, items: group });
  }
  for (const group of cut(fail, MAX_TASKS_PER_FRAME, budget, itemBytes)) {
    frames.push({ frame: { type: 'fail', tasks: group.map((item) => item.task) }, items: group });
  }
  return frames;
}

/** Splits `list` into runs of at most `max` entries whose sizes sum to at most `budget`. */
function cut<T>(
  list: readonly T[],
  max: number,
  budget: number,
  size: (entry: T) => number,
): T[][] {
  const groups: T[][] = [];
  let group: T[] = [];
  let bytes = 0;
  for (const entry of list) {
    const entryBytes = size(entry);
    if (group.length > 0 && (group.length >= max || bytes + entryBytes > budget)) {
      groups.push(group);
      group = [];
      bytes = 0;
    }
    group.push(entry);
    bytes += entryBytes;
  }
  if (group.length > 0) groups.push(group);
  return groups;
}

/** Serialized size of a chunk: its data JSON-escaped (control bytes grow sixfold) plus its keys. */
function chunkBytes(chunk: LogChunk): number {
  return Buffer.byteLength(JSON.stringify(chunk.data)) + 32;
}

function itemBytes(item: { task: CompleteItem | FailItem }): number {
  return Buffer.byteLength(JSON.stringify(item.task)) + 1;
}
