/**
 * Which queued pipeline tasks a dispatch round looks at: per pipeline, no more than it may still
 * start under its maxConcurrency, and only versions whose executors some free worker has. Read per
 * pipeline (like pinned tasks), so tasks no agent can run never hide the work queued behind them.
 */
import { requiredExecutors } from '../protocol/index.ts';
import type { Sql } from './db/sql.ts';
import type { PlacementWorker } from './placement.ts';
import { hasPipelines, specOf, versionsOf } from './db/pipelines.ts';
import { pipelinesWithQueued, readyOfPipeline, type QueuedRow } from './db/queue.ts';

export interface PipelineQueue {
  rows: QueuedRow[];
  /** How many more tasks each pipeline with queued tasks may start now. */
  caps: Map<string, number>;
}

/** The pipeline tasks ready at `now` that a round may place, within `slotBudget`. */
export function pipelineQueue(
  sql: Sql,
  now: number,
  workers: readonly PlacementWorker[],
  slotBudget: number,
): PipelineQueue {
  const queue: PipelineQueue = { rows: [], caps: new Map() };
  if (slotBudget <= 0 || !hasPipelines(sql)) return queue;
  const pipelines = pipelinesWithQueued(sql);
  const free = workers.filter((w) => w.freeSlots > 0 && w.freeInflight > 0);
  for (const pipeline of pipelines) {
    const room = Math.max(0, pipeline.max - pipeline.running);
    queue.caps.set(pipeline.id, room);
    if (room === 0) continue;
    const runnable = runnableRequirements(sql, pipeline.id, free);
    if (runnable.length === 0) continue;
    queue.rows.push(
      ...readyOfPipeline(sql, now, pipeline.id, runnable, Math.min(room, slotBudget)),
    );
  }
  return queue;
}

/** The `requires` values (as stored on tasks) of the pipeline's versions that a free worker can run. */
function runnableRequirements(
  sql: Sql,
  pipelineId: string,
  free: readonly PlacementWorker[],
): string[] {
  const versions = versionsOf(sql, pipelineId);
  const requirements = new Map(
    versions.map((row) => {
      const requires = requiredExecutors(specOf(row).pipeline);
      return [JSON.stringify(requires), requires];
    }),
  );
  return [...requirements]
    .filter(([, requires]) =>
      free.some((worker) => requires.every((name) => worker.executors?.includes(name))),
    )
    .map(([key]) => key);
}
