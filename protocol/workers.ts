/** API schemas for workers (agents): registration and the views the API returns. */
import { z } from 'zod';
import { AgentFingerprint } from './agent-identity.ts';

/** `host:port`, where the agent serves /healthz and /metrics. */
export const WorkerAddress = z
  .string()
  .max(255)
  .regex(/^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9][A-Za-z0-9.-]*):(\d{1,5})$/, 'expected host:port')
  .refine((address) => {
    const port = Number(address.slice(address.lastIndexOf(':') + 1));
    return port >= 1 && port <= 65535;
  }, 'port must be 1..65535');

export const Labels = z
  .record(z.string().min(1).max(63), z.string().max(255))
  .refine((labels) => Object.keys(labels).length <= 32, 'at most 32 labels');

export const RegisterWorkerRequest = z.strictObject({
  address: WorkerAddress,
  labels: Labels.optional(),
  slots: z.number().int().min(1).max(1024).optional(),
  /**
   * Pre-registers the agent's key (`tm-agent --print-fingerprint`): a hello with this key is
   * approved at once, a hello with any other key is refused (`key_mismatch`). Without it the
   * worker's first agent waits as `pending` until the admin approves it.
   */
  fingerprint: AgentFingerprint.optional(),
});
export type RegisterWorkerRequest = z.infer<typeof RegisterWorkerRequest>;

/**
 * `pending`: no agent yet, or an agent with a key the admin has not approved (connected, but
 * given no tasks); `ready`: approved and connected; `lost`: approved, its agent gone.
 */
export const WorkerState = z.enum(['pending', 'ready', 'draining', 'lost', 'gone']);
export type WorkerState = z.infer<typeof WorkerState>;

/** What an agent runs command and pipeline tasks in: a bubblewrap sandbox, or nothing. */
export const Isolation = z.enum(['bwrap', 'none']);
export type Isolation = z.infer<typeof Isolation>;

export const WorkerView = z.object({
  id: z.string(),
  address: z.string(),
  labels: z.record(z.string(), z.string()),
  state: WorkerState,
  /** Concurrency for slot-using tasks: the registered value, else what the agent announced. */
  slots: z.number().int(),
  connected: z.boolean(),
  lastHeartbeatAgeMs: z.number().nullable(),
  runningTasks: z.number().int(),
  acceptsCommands: z.boolean(),
  /** What its command and pipeline tasks run in, as the agent said; null before any hello. */
  isolation: Isolation.nullable(),
  /** False while the agent drains on its own (SIGTERM): connected, but given no new tasks. */
  acceptingTasks: z.boolean(),
  /** What pipeline steps the agent can run, as it announced them (`--executor`). */
  executors: z.array(z.string()),
  /** `SHA256:…` of the agent key bound at its first hello; null until an agent has said hello. */
  keyFingerprint: z.string().nullable(),
  /** Whether the admin approved the worker (`POST /v1/workers/:id/approve`, or pre-registered). */
  approved: z.boolean(),
  /** The fingerprint the worker was registered with: only that key is admitted; else null. */
  expectedFingerprint: z.string().nullable(),
  registeredAt: z.string(),
});
export type WorkerView = z.infer<typeof WorkerView>;

/** Reply to registration; the join token is shown here once and stored hashed. */
export const RegisteredWorker = z.object({
  worker: WorkerView,
  created: z.boolean(),
  joinToken: z.string().optional(),
});
export type RegisteredWorker = z.infer<typeof RegisteredWorker>;

export const DeregisterQuery = z.strictObject({
  force: z.enum(['true', 'false']).optional(),
});

export const ListWorkersQuery = z.strictObject({
  state: WorkerState.optional(),
});
