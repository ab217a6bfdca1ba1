/** The Scheduler's working parts in one place, and what happens after every committed change. */
import type { Sql } from './db/sql.ts';
import type { SchedulerConfig } from './config.ts';
import type { Logs } from '../protocol/control-plane-log.ts';
import type { AgentSockets } from './sockets.ts';
import { jobKey, taskKey, type Watchers } from './watchers.ts';
import type { Effects } from './effects.ts';
import type { StageHold } from './db/dataflow-stage-jobs.ts';
import type { FairClock } from './fair-share.ts';
import type { ResultCache } from './result-cache.ts';
import { inlineTable } from './aggregate-inline.ts';
import { dispatch } from './dispatch.ts';
import { dispatchGangs } from './gang-dispatch.ts';

export interface Core {
  sql: Sql;
  sockets: AgentSockets;
  watchers: Watchers;
  config: SchedulerConfig;
  /** The Scheduler's log lines, by component (protocol/control-plane-log.ts). */
  log: Logs;
  /** Fair sharing between tenants (durable-objects/fair-share.ts); in memory, as a restart may
   *  forget who was served last without harm. */
  fairClock: FairClock;
  /** Aggregation results read lately, decoded (durable-objects/result-cache.ts). */
  results: ResultCache;
  now(): number;
  /** Makes sure the alarm runs at `at` or earlier. */
  wake(at: number): void;
  /** Launches the jobs of dataflow stages that run one (stage-job-launch.ts), in the background. */
  launchStageJobs(holds: readonly StageHold[]): void;
}

/** Applies the effects of a committed transaction: notify watchers, send frames, place work. */
export function commit(core: Core, effects: Effects): void {
  for (const task of effects.endedTasks) core.watchers.end(taskKey(task.id), task.state);
  for (const job of effects.endedJobs) core.watchers.jobEnded(job.id, job.state);
  for (const { connId, frame } of effects.outbox) core.sockets.sendTo(connId, frame);
  for (const { connId, code, reason } of effects.closes) core.sockets.close(connId, code, reason);
  if (effects.wakeAt !== null) core.wake(effects.wakeAt);
  // Ended jobs come due for retention: the alarm runs within a cap check's period, and sets itself
  // for their expiry (retention.ts).
  if (effects.endedJobs.length > 0) core.wake(core.now() + core.config.capCheckMs);
  for (const { key, inline } of effects.results)
    core.results.set(key, () => inlineTable(inline), inline.length);
  if (effects.stageJobs.length > 0) core.launchStageJobs(effects.stageJobs);
  if (!effects.dispatch) return;
  // Stream groups first, each placed whole; then the queue. Assignments no frame could carry
  // fail at once: their effects (ended tasks, jobs) follow.
  for (const more of dispatchGangs(core)) commit(core, more);
  const refused = dispatch(core);
  if (refused) commit(core, refused);
}
