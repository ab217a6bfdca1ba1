/**
 * Wire frames between an agent and the Scheduler Durable Object: JSON over one WebSocket,
 * each `{type, ...}`. Both sides parse every frame with these schemas before acting on it.
 */
import { z } from 'zod';
import { Isolation, WorkerAddress } from './workers.ts';
import { CommandSpec, RelativePath } from './jobs.ts';
import {
  MAX_LOG_CHUNK_BYTES,
  MAX_LOG_CHUNKS_PER_FRAME,
  MAX_TASKS_PER_FRAME,
  MAX_TASKS_PER_JOB,
} from './limits.ts';
import { LogStream } from './logs.ts';
import {
  BarrierName,
  MAX_STAGE_FILES,
  MAX_STAGE_OUTPUTS,
  MAX_STAGES,
  OutputName,
  StageName,
} from './dataflow.ts';
import { FinalTaskSpec, MapTaskSpec, ObjectUrl, ReduceTaskSpec, TaskStore } from './aggregate.ts';
import { ExecutorName, MAX_EXECUTORS, PipelineTaskSpec, StepReport } from './pipelines.ts';
import { AgentPublicKey, AgentSignature, Nonce } from './agent-identity.ts';

const TaskId = z.uuid();
const Attempt = z.number().int().min(1);
const TaskRef = z.strictObject({ taskId: TaskId, attempt: Attempt });
export type TaskRef = z.infer<typeof TaskRef>;

function batch<T extends z.ZodType>(item: T) {
  return z.array(item).min(1).max(MAX_TASKS_PER_FRAME);
}

// ---- agent → Durable Object ----

export const HelloFrame = z.strictObject({
  type: z.literal('hello'),
  protocolVersion: z.number().int(),
  address: WorkerAddress,
  slots: z.number().int().min(1).max(1024),
  acceptsCommands: z.boolean(),
  agentVersion: z.string().max(64).optional(),
  /** Tasks the agent still holds: running, or finished with the report not yet sent. */
  running: z.array(TaskRef).max(10_000),
  /** The agent is draining (it got SIGTERM): it finishes what it holds and takes nothing new. */
  draining: z.boolean().optional(),
  /** What pipeline steps this agent can run (`--executor`); absent: none. */
  executors: z.array(ExecutorName).max(MAX_EXECUTORS).optional(),
  /** What the agent's command and pipeline tasks run in (`--isolation`); absent: none. */
  isolation: Isolation.optional(),
  /** The TCP port, on its address's host, where the agent takes records from its peers. */
  dataPort: z.number().int().min(1).max(65535).optional(),
  /** The agent's Ed25519 public key, and its signature over `helloMessage(nonce, address)`. */
  publicKey: AgentPublicKey,
  signature: AgentSignature,
});

export const HeartbeatFrame = z.strictObject({ type: z.literal('heartbeat') });

/** The agent stops taking tasks from now on (sent when it starts a drain of its own). */
export const DrainingFrame = z.strictObject({ type: z.literal('draining') });

export const StartedFrame = z.strictObject({
  type: z.literal('started'),
  tasks: batch(TaskRef),
});

export const LogFrame = z.strictObject({
  type: z.literal('log'),
  taskId: TaskId,
  attempt: Attempt,
  chunks: z
    .array(z.strictObject({ stream: LogStream, data: z.string().max(MAX_LOG_CHUNK_BYTES) }))
    .min(1)
    .max(MAX_LOG_CHUNKS_PER_FRAME),
});

export const CompleteFrame = z.strictObject({
  type: z.literal('complete'),
  tasks: batch(
    z.strictObject({
      taskId: TaskId,
      attempt: Attempt,
      exitCode: z.number().int().optional(),
      result: z.json().optional(),
    }),
  ),
});

export const TaskError = z.strictObject({
  /** `peer`: a stream task's data connection to another agent broke (not the task's fault). */
  type: z.enum(['exit', 'timeout', 'cancelled', 'spawn', 'refused', 'internal', 'peer']),
  message: z.string().max(4096),
  nonRetryable: z.boolean().optional(),
});
export type TaskError = z.infer<typeof TaskError>;

export const FailFrame = z.strictObject({
  type: z.literal('fail'),
  tasks: batch(
    z.strictObject({
      taskId: TaskId,
      attempt: Attempt,
      exitCode: z.number().int().optional(),
      error: TaskError,
    }),
  ),
});

/** How far running tasks are: data read so far, or a pipeline's steps so far. */
export const ProgressFrame = z.strictObject({
  type: z.literal('progress'),
  tasks: batch(
    z.union([
      z.strictObject({
        taskId: TaskId,
        attempt: Attempt,
        rowsRead: z.number().min(0),
        bytesRead: z.number().min(0),
        bytesCached: z.number().min(0).optional(),
      }),
      z.strictObject({ taskId: TaskId, attempt: Attempt, steps: z.array(StepReport).max(64) }),
    ]),
  ),
});
export type ProgressFrame = z.infer<typeof ProgressFrame>;

/** A stream task reached a barrier: it waits until every instance of its stage has too. */
export const BarrierFrame = z.strictObject({
  type: z.literal('barrier'),
  taskId: TaskId,
  attempt: Attempt,
  name: BarrierName,
});
export type BarrierFrame = z.infer<typeof BarrierFrame>;

export const ByeFrame = z.strictObject({
  type: z.literal('bye'),
  reason: z.string().max(256).optional(),
});

export const AgentFrame = z.discriminatedUnion('type', [
  HelloFrame,
  HeartbeatFrame,
  DrainingFrame,
  StartedFrame,
  ProgressFrame,
  LogFrame,
  CompleteFrame,
  FailFrame,
  BarrierFrame,
  ByeFrame,
]);
export type AgentFrame = z.infer<typeof AgentFrame>;
export type HelloFrame = z.infer<typeof HelloFrame>;
/** A hello before the connection signs it for the Scheduler's challenge. */
export type UnsignedHello = Omit<HelloFrame, 'publicKey' | 'signature'>;
export type CompleteFrame = z.infer<typeof CompleteFrame>;
export type FailFrame = z.infer<typeof FailFrame>;
export type LogFrame = z.infer<typeof LogFrame>;

// ---- Durable Object → agent ----

/** The first frame on every agent socket: the nonce the agent signs in its `hello`. */
export const ChallengeFrame = z.strictObject({ type: z.literal('challenge'), nonce: Nonce });

/**
 * A dataflow stage's instance: the agent gives the task its place (TM_STAGE, TM_INSTANCE,
 * TM_PARALLELISM), its upstreams' results (TM_INPUT_<stage> and files under TM_INPUTS), and keeps
 * the last MAX_STAGE_RESULT_BYTES of its stdout as its result.
 */
/**
 * Where an input file goes in a stage's input folder: `<upstream>/result.arrow` (an aggregate's
 * result) or `<upstream>/outputs/<instance>/<name>` (an instance's output file). Nothing else, so
 * the agent writes only inside the folder.
 */
export const InputFilePath = z
  .string()
  .regex(
    /^[A-Za-z_][A-Za-z0-9_]{0,63}\/(result\.arrow|outputs\/\d{1,6}\/(?!\.\.?$)[A-Za-z0-9._-]{1,128})$/,
    'an input file is <stage>/result.arrow or <stage>/outputs/<instance>/<name>',
  );

export const StageInstance = z.strictObject({
  name: StageName,
  instance: z.number().int().min(0),
  parallelism: z.number().int().min(1),
  /** Each upstream stage's results, by instance; null: that instance left none. */
  inputs: z.record(StageName, z.array(z.string().nullable()).max(MAX_TASKS_PER_JOB)),
  /**
   * Files read from their URLs into the input folder before the command starts: aggregate
   * upstreams' Arrow results, and upstream instances' output files.
   */
  files: z
    .array(
      z.strictObject({
        path: InputFilePath,
        store: TaskStore,
        key: z.string().min(1).max(2048),
        url: ObjectUrl,
      }),
    )
    .max(MAX_STAGE_FILES)
    .optional(),
  /** The declared output files, each uploaded to its URL when the command succeeds. */
  outputs: z
    .strictObject({
      store: TaskStore,
      files: z
        .array(
          z.strictObject({ name: OutputName, key: z.string().min(1).max(2048), url: ObjectUrl }),
        )
        .min(1)
        .max(MAX_STAGE_OUTPUTS),
    })
    .optional(),
});
export type StageInstance = z.infer<typeof StageInstance>;

/** An instance of a stage in a stream group: where its records go, and how many channels it reads. */
export const StreamPlan = z.strictObject({
  /** The group's run: a connection of another run is refused. */
  epoch: z.number().int().min(1),
  /** What this run's data connections present (never given to the task). */
  secret: z.string().regex(/^[0-9a-f]{64}$/),
  /** Upstream instances whose records this one reads (0: its stdin is closed at once). */
  inputs: z.number().int().min(0).max(MAX_TASKS_PER_JOB),
  /** Each downstream stage its stdout's records go to; none: its stdout is its output. */
  outputs: z
    .array(
      z.strictObject({
        stage: StageName,
        key: z.string().min(1).max(256).optional(),
        /** The downstream stage's instances, in order: their task and their agent's data address. */
        peers: z
          .array(z.strictObject({ taskId: TaskId, address: WorkerAddress }))
          .min(1)
          .max(MAX_TASKS_PER_JOB),
      }),
    )
    .max(MAX_STAGES),
});
export type StreamPlan = z.infer<typeof StreamPlan>;

export const CommandTaskSpec = z.strictObject({
  kind: z.literal('command'),
  command: CommandSpec,
  path: RelativePath,
  env: z.record(z.string(), z.string()),
  timeoutSeconds: z.number().positive().optional(),
  stage: StageInstance.optional(),
  stream: StreamPlan.optional(),
});
export const EchoTaskSpec = z.strictObject({
  kind: z.literal('echo'),
  payload: z.json().optional(),
});
export const TaskSpec = z.discriminatedUnion('kind', [
  CommandTaskSpec,
  EchoTaskSpec,
  MapTaskSpec,
  ReduceTaskSpec,
  FinalTaskSpec,
  PipelineTaskSpec,
]);
export type TaskSpec = z.infer<typeof TaskSpec>;

export const Assignment = z.strictObject({
  taskId: TaskId,
  jobId: z.uuid(),
  attempt: Attempt,
  spec: TaskSpec,
  /** The tenant whose job this is, whose work dir the task gets; null: the admin's own job. */
  tenant: z.string().min(1).max(64).nullable(),
  /**
   * Set on a task handed over beyond the worker's free slots (a map, held ahead): the agent
   * starts it once fewer than this many slot-using tasks run there.
   */
  startBelow: z.number().int().min(1).max(1024).optional(),
});
export type Assignment = z.infer<typeof Assignment>;

export const WelcomeFrame = z.strictObject({
  type: z.literal('welcome'),
  workerId: z.uuid(),
  protocolVersion: z.number().int(),
  heartbeatIntervalMs: z.number().int().positive(),
  /** The admin has not approved this worker yet: it stays connected and gets no tasks. */
  pending: z.boolean().optional(),
});
/** The admin approved the pending worker: tasks may come from now on. */
export const ApprovedFrame = z.strictObject({ type: z.literal('approved') });
export const RejectFrame = z.strictObject({
  type: z.literal('reject'),
  code: z.string(),
  message: z.string(),
});
export const AssignFrame = z.strictObject({ type: z.literal('assign'), tasks: batch(Assignment) });
export const CancelFrame = z.strictObject({
  type: z.literal('cancel'),
  tasks: batch(TaskRef),
  reason: z.string(),
});
export const DrainFrame = z.strictObject({ type: z.literal('drain') });
/** Every instance of the tasks' stage has reached the barrier: they go on. */
export const ReleaseFrame = z.strictObject({
  type: z.literal('release'),
  tasks: batch(TaskRef),
  name: BarrierName,
});
export const ErrorFrame = z.strictObject({
  type: z.literal('error'),
  code: z.string(),
  message: z.string(),
});

export const ServerFrame = z.discriminatedUnion('type', [
  ChallengeFrame,
  WelcomeFrame,
  ApprovedFrame,
  RejectFrame,
  AssignFrame,
  CancelFrame,
  DrainFrame,
  ReleaseFrame,
  ByeFrame,
  ErrorFrame,
]);
export type ServerFrame = z.infer<typeof ServerFrame>;
export type WelcomeFrame = z.infer<typeof WelcomeFrame>;
export type ChallengeFrame = z.infer<typeof ChallengeFrame>;
export type AssignFrame = z.infer<typeof AssignFrame>;
export type CancelFrame = z.infer<typeof CancelFrame>;
