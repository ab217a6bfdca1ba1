/**
 * Which queued pipeline tasks a dispatch round looks at: per pipeline, no more than it may still
 * start under its maxConcurrency, and only versions whose executors some free worker has. Read per
 * pipeline (like pinned tasks), so tasks no agent can run never hide the work queued behind them.
 */
import { requiredExecutors } from '../protocol/index.ts';
import type { Sql } from './db/sql.ts';
import { LIVE_TASK_STATES } from './db/rows.ts';
import type { PlacementWorker } from './placement.ts';
import { specOf, type VersionRow } from './pipelines-store.ts';

export interface PipelineQueue<Row> {
  rows: Row[];
  /** How many more tasks each pipeline with queued tasks may start now. */
  caps: Map<string, number>;
}

/**
 * `select` is the dispatch round's query of ready queued tasks; pipelines add
 * `AND pipeline_id = ? AND requires IN (…) ORDER BY seq LIMIT ?` to it.
 */
export function pipelineQueue<Row>(
  sql: Sql,
  select: string,
  workers: readonly PlacementWorker[],
  slotBudget: number,
): PipelineQueue<Row> {
  const queue: PipelineQueue<Row> = { rows: [], caps: new Map() };
  if (slotBudget <= 0 || !sql.first(`SELECT 1 AS any FROM pipelines LIMIT 1`)) return queue;
  const pipelines = sql.all<{ id: string; max: number; running: number }>(
    `SELECT p.id, json_extract(v.definition, '$.maxConcurrency') AS max,
       (SELECT count(*) FROM tasks t WHERE t.pipeline_id = p.id AND t.state IN ${LIVE_TASK_STATES}) AS running
     FROM pipelines p JOIN pipeline_versions v ON v.pipeline_id = p.id AND v.version = p.version
     WHERE EXISTS (SELECT 1 FROM tasks t WHERE t.pipeline_id = p.id AND t.state = 'queued')`,
  );
  const free = workers.filter((w) => w.freeSlots > 0 && w.freeInflight > 0);
  for (const pipeline of pipelines) {
    const room = Math.max(0, pipeline.max - pipeline.running);
    queue.caps.set(pipeline.id, room);
    if (room === 0) continue;
    const runnable = runnableRequirements(sql, pipeline.id, free);
    if (runnable.length === 0) continue;
    queue.rows.push(
      ...sql.all<Row>(
        `${select} AND pipeline_id = ? AND requires IN (SELECT value FROM json_each(?))
         ORDER BY seq LIMIT ?`,
        pipeline.id,
        JSON.stringify(runnable),
        Math.min(room, slotBudget),
      ),
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
  const versions = sql.all<VersionRow>(
    `SELECT * FROM pipeline_versions WHERE pipeline_id = ?`,
    pipelineId,
  );
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
