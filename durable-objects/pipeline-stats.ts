/** A pipeline's load and scaling figures, read from its tasks and the agents that can run it. */
import type { PipelineSpec, PipelineStats } from '../protocol/index.ts';
import { requiredExecutors } from '../protocol/index.ts';
import type { Sql } from './db/sql.ts';
import { effectiveSlots, executorsOf } from './views.ts';
import type { WorkerRow } from './db/rows.ts';
import { meanRunMs, pipelineEnds, pipelineTaskCount } from './db/pipelines.ts';
import { connectedReadyWorkers } from './db/workers.ts';
import { wantedCapacity } from './pipeline-scaling.ts';

/** Throughput is measured over this window. */
export const STATS_WINDOW_MS = 5 * 60_000;
/** The mean task duration is taken over this many of the latest succeeded tasks. */
const DURATION_SAMPLE = 100;

/** Connected, ready agents that have every executor in `requires`. */
function capableAgents(sql: Sql, requires: readonly string[]): WorkerRow[] {
  return connectedReadyWorkers(sql).filter((row) => {
    const executors = executorsOf(row);
    return requires.every((name) => executors.includes(name));
  });
}

export function runningCount(sql: Sql, pipelineId: string): number {
  return pipelineTaskCount(sql, pipelineId, 'live');
}

export function pipelineStats(
  sql: Sql,
  pipelineId: string,
  latest: PipelineSpec,
  now: number,
): PipelineStats {
  const queued = pipelineTaskCount(sql, pipelineId, 'queued');
  const running = runningCount(sql, pipelineId);
  const ended = pipelineEnds(sql, pipelineId, now - STATS_WINDOW_MS);
  const succeeded = ended.get('succeeded') ?? 0;
  const failed = ended.get('failed') ?? 0;
  const meanMs = meanRunMs(sql, pipelineId, DURATION_SAMPLE);
  const meanTaskSeconds = meanMs === null ? null : meanMs / 1000;
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
