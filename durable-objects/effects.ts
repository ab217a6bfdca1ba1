/** What a storage transition asks the Durable Object to do once it has committed. */
import type { JobState, ServerFrame, TaskRef, TaskState } from '../protocol/index.ts';
import type { Sql } from './db/sql.ts';
import { connectionOf } from './db/workers.ts';
import type { StageHold } from './db/dataflow-stage-jobs.ts';

export interface Effects {
  endedTasks: { id: string; jobId: string; state: TaskState }[];
  endedJobs: { id: string; state: JobState }[];
  /** Frames for agent connections, sent in order after the commit. */
  outbox: { connId: string; frame: ServerFrame }[];
  /** Agent connections to close after their frames are sent. */
  closes: { connId: string; code: number; reason: string }[];
  /** Whether queued work may now be placed. */
  dispatch: boolean;
  /** The earliest moment the alarm must run for what this change set in motion; null: none. */
  wakeAt: number | null;
  /** Results of jobs that just succeeded, handed back inline, for the result cache. */
  results: { key: string; inline: string }[];
  /** Dataflow stages that just started and run a job of their own, to launch once committed. */
  stageJobs: StageHold[];
}

export function newEffects(): Effects {
  return {
    endedTasks: [],
    endedJobs: [],
    outbox: [],
    closes: [],
    dispatch: false,
    wakeAt: null,
    results: [],
    stageJobs: [],
  };
}

/** Queues a frame for a worker's current connection, if it has one. */
export function tellWorker(sql: Sql, effects: Effects, workerId: string, frame: ServerFrame): void {
  const connId = connectionOf(sql, workerId);
  if (connId) effects.outbox.push({ connId, frame });
}

export function wakeAt(effects: Effects, at: number): void {
  if (effects.wakeAt === null || at < effects.wakeAt) effects.wakeAt = at;
}

type HeldAttempt = { id: string; attempt: number; worker_id: string | null };

/** Tells each agent about the attempts it holds among `attempts` (those with a worker), one frame each. */
export function tellHolders(
  sql: Sql,
  effects: Effects,
  attempts: readonly HeldAttempt[],
  frame: (tasks: TaskRef[]) => ServerFrame,
): void {
  const byWorker = new Map<string, TaskRef[]>();
  for (const row of attempts) {
    if (!row.worker_id) continue;
    const list = byWorker.get(row.worker_id) ?? [];
    list.push({ taskId: row.id, attempt: row.attempt });
    byWorker.set(row.worker_id, list);
  }
  for (const [workerId, tasks] of byWorker) tellWorker(sql, effects, workerId, frame(tasks));
}

/** Tells each agent to stop the attempts it runs among `attempts` (those with a worker). */
export function tellAgentsToStop(
  sql: Sql,
  effects: Effects,
  attempts: readonly HeldAttempt[],
  reason: string,
): void {
  tellHolders(sql, effects, attempts, (tasks) => ({ type: 'cancel', tasks, reason }));
}
