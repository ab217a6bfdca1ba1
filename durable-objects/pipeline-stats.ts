/** A pipeline's load and scaling figures, read from its tasks and the agents that can run it. */
import type { PipelineSpec, PipelineStats } from '../protocol/index.ts';
import { requiredExecutors } from '../protocol/index.ts';
import type { Sql } from './db/sql.ts';
import { effectiveSlots } from './views.ts';
import { LIVE_TASK_STATES, type WorkerRow } from './db/rows.ts';
import { connectedReadyWorkers } from './db/workers.ts';
import { wantedCapacity } from './pipeline-scaling.ts';

/** Throughput is measured over this window. */
export const STATS_WINDOW_MS = 5 * 60_000;
/** The mean task duration is taken over this many of the latest succeeded tasks. */
const DURATION_SAMPLE = 100;

export const executorsOf = (row: Pick<WorkerRow, 'executors'>): string[] =>
  JSON.parse(row.executors) as string[];

/** Connected, ready agents that have every executor in `requires`. */
function capableAgents(sql: Sql, requires: readonly string[]): WorkerRow[] {
  return connectedReadyWorkers(sql).filter((row) => {
    const executors = executorsOf(row);
    return requires.every((name) => executors.includes(name));
  });
}

export function runningCount(sql: Sql, pipelineId: string): number {
  return count(sql, `state IN ${LIVE_TASK_STATES}`, pipelineId);
}

function count(sql: Sql, where: string, pipelineId: string): number {
  return (
    sql.first<{ n: number }>(
      `SELECT count(*) AS n FROM tasks WHERE pipeline_id = ? AND ${where}`,
      pipelineId,
    )?.n ?? 0
  );
}

export function pipelineStats(
  sql: Sql,
  pipelineId: string,
  latest: PipelineSpec,
  now: number,
): PipelineStats {
  const queued = count(sql, `state = 'queued'`, pipelineId);
  const running = runningCount(sql, pipelineId);
  const ended = new Map(
    sql
      .all<{ state: string; n: number }>(
        `SELECT state, count(*) AS n FROM tasks
         WHERE pipeline_id = ? AND finished_at >= ? GROUP BY state`,
        pipelineId,
        now - STATS_WINDOW_MS,
      )
      .map((row) => [row.state, row.n]),
  );
  const succeeded = ended.get('succeeded') ?? 0;
  const failed = ended.get('failed') ?? 0;
  const meanMs = sql.first<{ ms: number | null }>(
    `SELECT avg(finished_at - coalesce(started_at, assigned_at)) AS ms FROM (
       SELECT finished_at, started_at, assigned_at FROM tasks
       WHERE pipeline_id = ? AND state = 'succeeded' ORDER BY finished_at DESC LIMIT ?)`,
    pipelineId,
    DURATION_SAMPLE,
  )?.ms;
  const meanTaskSeconds = meanMs === null || meanMs === undefined ? null : meanMs / 1000;
  const agents = capableAgents(sql, requiredExecutors(latest.pipeline));
  const slots = agents.reduce((sum, row) => sum + effectiveSlots(row), 0);
  const slotsPerAgent = agents.length > 0 ? slots / agents.length : 1;
  return {
    queued,
    running,
    succeeded,
    failed,
    windowSeconds: STATS_WINDOW_MS / 1000,
    throughputPerMinute: (succeeded + failed) / (STATS_WINDOW_MS / 60_000),
    meanTaskSeconds,
    readyAgents: agents.length,
    slotsPerAgent,
    ...wantedCapacity({
      queued,
      running,
      meanTaskSeconds,
      targetQueueSeconds: latest.targetQueueSeconds,
      maxConcurrency: latest.maxConcurrency,
      slotsPerAgent,
    }),
  };
}
