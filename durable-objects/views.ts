/** The Scheduler's rows converted to the API's views. */
import type {
  AttemptCounts,
  JobView,
  TaskCounts,
  TaskView,
  WorkerView,
} from '../protocol/index.ts';
import type { JobRow, WorkerRow } from './db/rows.ts';
import { Labels, NameList, parseJsonColumn } from './db/json-column.ts';
import { removalDueAt } from './retention-plan.ts';

export const iso = (ms: number) => new Date(ms).toISOString();

/** The executor names an agent announced. */
export const executorsOf = (row: Pick<WorkerRow, 'executors'>): string[] =>
  parseJsonColumn(NameList, row.executors, 'workers.executors');
export const isoOrNull = (ms: number | null) => (ms === null ? null : iso(ms));

/** Effective slots: the registered value wins, else what the agent announced, else 1. */
export function effectiveSlots(row: Pick<WorkerRow, 'slots' | 'agent_slots'>): number {
  return row.slots ?? row.agent_slots ?? 1;
}

export function toWorkerView(
  row: WorkerRow,
  runningTasks: number,
  now: number,
  keyFingerprint: string | null,
): WorkerView {
  return {
    id: row.id,
    address: row.address,
    labels: parseJsonColumn(Labels, row.labels, 'workers.labels'),
    state: row.state,
    slots: effectiveSlots(row),
    connected: row.conn_id !== null,
    lastHeartbeatAgeMs:
      row.last_heartbeat_at === null ? null : Math.max(0, now - row.last_heartbeat_at),
    runningTasks,
    acceptsCommands: row.accepts_commands === 1,
    isolation: row.isolation === 'bwrap' ? 'bwrap' : row.isolation === null ? null : 'none',
    acceptingTasks: row.accepting === 1,
    executors: executorsOf(row),
    keyFingerprint,
    approved: row.approved_at !== null,
    expectedFingerprint: row.expected_fingerprint,
    registeredAt: iso(row.registered_at),
  };
}

export function toJobView(
  row: JobRow,
  counts: TaskCounts,
  attempts: AttemptCounts,
  retentionMs: number,
  tasks?: { tasks: TaskView[]; next: string | null },
): JobView {
  return {
    id: row.id,
    name: row.name,
    tenantId: row.tenant_id,
    kind: row.kind,
    state: row.state,
    spec: JSON.parse(row.spec) as unknown,
    error: row.error,
    counts,
    attempts,
    createdAt: iso(row.created_at),
    startedAt: isoOrNull(row.started_at),
    finishedAt: isoOrNull(row.finished_at),
    removeAfter:
      row.finished_at === null
        ? null
        : iso(removalDueAt(row.finished_at, row.retention_ms, retentionMs)),
    ...(tasks ? { tasks: tasks.tasks, tasksNext: tasks.next } : {}),
  };
}
