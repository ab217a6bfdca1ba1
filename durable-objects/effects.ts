/** What a storage transition asks the Durable Object to do once it has committed. */
import type { JobState, ServerFrame, TaskState } from '../protocol/index.ts';
import type { Sql } from './sql.ts';

export interface Effects {
  endedTasks: { id: string; jobId: string; state: TaskState }[];
  endedJobs: { id: string; state: JobState }[];
  /** Frames for agent connections, sent in order after the commit. */
  outbox: { connId: string; frame: ServerFrame }[];
  /** Agent connections to close after their frames are sent. */
  closes: { connId: string; code: number; reason: string }[];
  /** Whether queued work may now be placed. */
  dispatch: boolean;
}

export function newEffects(): Effects {
  return { endedTasks: [], endedJobs: [], outbox: [], closes: [], dispatch: false };
}

/** Queues a frame for a worker's current connection, if it has one. */
export function tellWorker(sql: Sql, effects: Effects, workerId: string, frame: ServerFrame): void {
  const connId = sql.first<{ conn_id: string | null }>(
    `SELECT conn_id FROM workers WHERE id = ?`,
    workerId,
  )?.conn_id;
  if (connId) effects.outbox.push({ connId, frame });
}
