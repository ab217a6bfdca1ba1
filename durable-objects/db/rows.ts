/**
 * Row shapes of the Scheduler's main tables, as zod schemas: what SQLite gives back is parsed with
 * them, never cast. Booleans are SQLite integers (0/1), times epoch milliseconds, lists JSON text.
 */
import { z } from 'zod';
import { JobState, TaskState, WorkerState } from '../../protocol/index.ts';

const int = z.number().int();
const intOrNull = int.nullable();
const text = z.string();
const textOrNull = text.nullable();

export const WorkerRow = z.object({
  seq: int,
  id: text,
  address: text,
  labels: text,
  slots: intOrNull,
  agent_slots: intOrNull,
  accepts_commands: int,
  accepting: int,
  state: WorkerState,
  token_hash: textOrNull,
  /** The agent's Ed25519 key (raw, base64url), recorded at its first verified hello. */
  public_key: textOrNull,
  conn_id: textOrNull,
  registered_at: z.number(),
  connected_at: z.number().nullable(),
  last_heartbeat_at: z.number().nullable(),
  /** JSON array of the executor names the agent announced. */
  executors: text,
  /** When the admin approved the worker (or registered it with a fingerprint); null: pending. */
  approved_at: z.number().nullable(),
  /** `SHA256:…` the admin registered the worker with: the only key its agent may bind. */
  expected_fingerprint: textOrNull,
  /** What the agent's command and pipeline tasks run in ('bwrap' or 'none'); null before hello. */
  isolation: textOrNull,
  /** Where the agent takes records from its peers (on its address's host); null: it does not. */
  data_port: intOrNull,
});
export type WorkerRow = z.infer<typeof WorkerRow>;

export const JobRow = z.object({
  id: text,
  name: textOrNull,
  tenant_id: textOrNull,
  kind: text,
  spec: text,
  state: JobState,
  error: textOrNull,
  retries: int,
  backoff_initial_ms: z.number(),
  backoff_max_ms: z.number(),
  max_lost: int,
  lease_ms: z.number().nullable(),
  task_timeout_ms: z.number().nullable(),
  deadline_at: z.number().nullable(),
  cancel_requested: int,
  phase: textOrNull,
  tasks_total: int,
  /** Bytes of results its tasks have stored (MAX_JOB_RESULT_BYTES). */
  result_bytes: int,
  n_succeeded: int,
  n_failed: int,
  n_cancelled: int,
  created_at: z.number(),
  started_at: z.number().nullable(),
  finished_at: z.number().nullable(),
  /** The retention the job asked for; null: the cluster's. */
  retention_ms: z.number().nullable(),
});
export type JobRow = z.infer<typeof JobRow>;

export const TaskRow = z.object({
  seq: int,
  id: text,
  job_id: text,
  idx: int,
  kind: text,
  cost: int,
  state: TaskState,
  attempt: int,
  failures: int,
  losses: int,
  not_before: z.number().nullable(),
  deadline_at: z.number().nullable(),
  worker_id: textOrNull,
  pinned_worker_id: textOrNull,
  exit_code: intOrNull,
  error: textOrNull,
  result: textOrNull,
  /** 1: the result is the job's payload (an echo), stored once with the job. */
  result_is_payload: int,
  spec: textOrNull,
  progress: textOrNull,
  tenant_id: textOrNull,
  pipeline_id: textOrNull,
  /** JSON array of the executors a pipeline task needs. */
  requires: textOrNull,
  log_bytes: int,
  log_truncated: int,
  created_at: z.number(),
  assigned_at: z.number().nullable(),
  started_at: z.number().nullable(),
  finished_at: z.number().nullable(),
});
export type TaskRow = z.infer<typeof TaskRow>;

/** A count or a single number read back from an aggregate query. */
export const Count = z.object({ n: int });

/** The task states of an attempt that is still live on a worker, as an SQL list. */
export const LIVE_TASK_STATES = `('assigned','running')`;
