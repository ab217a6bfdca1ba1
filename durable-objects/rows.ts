/** Row shapes of the Scheduler's tables and their conversion to the API's views. */
import type {
  AttemptCounts,
  JobView,
  TaskCounts,
  TaskView,
  WorkerView,
} from '../protocol/index.ts';
import { withoutInline } from './aggregate-inline.ts';

export interface WorkerRow {
  seq: number;
  id: string;
  address: string;
  labels: string;
  slots: number | null;
  agent_slots: number | null;
  accepts_commands: number;
  accepting: number;
  state: WorkerView['state'];
  token_hash: string | null;
  /** The agent's Ed25519 key (raw, base64url), recorded at its first verified hello. */
  public_key: string | null;
  conn_id: string | null;
  registered_at: number;
  connected_at: number | null;
  last_heartbeat_at: number | null;
  /** JSON array of the executor names the agent announced. */
  executors: string;
  /** When the admin approved the worker (or registered it with a fingerprint); null: pending. */
  approved_at: number | null;
  /** `SHA256:…` the admin registered the worker with: the only key its agent may bind. */
  expected_fingerprint: string | null;
  /** What the agent's command and pipeline tasks run in ('bwrap' or 'none'); null before hello. */
  isolation: string | null;
}

export interface JobRow {
  id: string;
  name: string | null;
  tenant_id: string | null;
  kind: string;
  spec: string;
  state: JobView['state'];
  error: string | null;
  retries: number;
  backoff_initial_ms: number;
  backoff_max_ms: number;
  max_lost: number;
  lease_ms: number | null;
  task_timeout_ms: number | null;
  deadline_at: number | null;
  cancel_requested: number;
  phase: string | null;
  tasks_total: number;
  n_succeeded: number;
  n_failed: number;
  n_cancelled: number;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
}

export interface TaskRow {
  seq: number;
  id: string;
  job_id: string;
  idx: number;
  kind: string;
  cost: number;
  state: TaskView['state'];
  attempt: number;
  failures: number;
  losses: number;
  not_before: number | null;
  deadline_at: number | null;
  worker_id: string | null;
  pinned_worker_id: string | null;
  exit_code: number | null;
  error: string | null;
  result: string | null;
  spec: string | null;
  progress: string | null;
  tenant_id: string | null;
  pipeline_id: string | null;
  /** JSON array of the executors a pipeline task needs. */
  requires: string | null;
  log_bytes: number;
  log_truncated: number;
  created_at: number;
  assigned_at: number | null;
  started_at: number | null;
  finished_at: number | null;
}

/** The task states of an attempt that is still live on a worker, as an SQL list. */
export const LIVE_TASK_STATES = `('assigned','running')`;

export const iso = (ms: number) => new Date(ms).toISOString();
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
    labels: JSON.parse(row.labels) as Record<string, string>,
    state: row.state,
    slots: effectiveSlots(row),
    connected: row.conn_id !== null,
    lastHeartbeatAgeMs:
      row.last_heartbeat_at === null ? null : Math.max(0, now - row.last_heartbeat_at),
    runningTasks,
    acceptsCommands: row.accepts_commands === 1,
    isolation: row.isolation === 'bwrap' ? 'bwrap' : row.isolation === null ? null : 'none',
    acceptingTasks: row.accepting === 1,
    executors: JSON.parse(row.executors) as string[],
    keyFingerprint,
    approved: row.approved_at !== null,
    expectedFingerprint: row.expected_fingerprint,
    registeredAt: iso(row.registered_at),
  };
}

/** An aggregation step's inline outputs are shown by their size, not their bytes. */
function taskResult(kind: string, result: unknown): unknown {
  return kind.startsWith('aggregate-') ? withoutInline(result) : result;
}

export function toTaskView(row: TaskRow): TaskView {
  return {
    id: row.id,
    jobId: row.job_id,
    index: row.idx,
    kind: row.kind,
    state: row.state,
    attempt: row.attempt,
    workerId: row.worker_id,
    pinnedWorkerId: row.pinned_worker_id,
    exitCode: row.exit_code,
    error: row.error,
    result: row.result === null ? null : taskResult(row.kind, JSON.parse(row.result)),
    logTruncated: row.log_truncated === 1,
    createdAt: iso(row.created_at),
    assignedAt: isoOrNull(row.assigned_at),
    startedAt: isoOrNull(row.started_at),
    finishedAt: isoOrNull(row.finished_at),
  };
}

export function toJobView(
  row: JobRow,
  counts: TaskCounts,
  attempts: AttemptCounts,
  tasks?: TaskView[],
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
    ...(tasks ? { tasks } : {}),
  };
}
