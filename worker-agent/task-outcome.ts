/** How a task ended, as executors report it, and the executor contract the runner calls. */
import type {
  Assignment,
  CompleteFrame,
  LogFrame,
  StepReport,
  TaskError,
  TaskSpec,
} from '../protocol/index.ts';

export type JsonResult = CompleteFrame['tasks'][number]['result'];
export type LogChunk = LogFrame['chunks'][number];

export type TaskOutcome =
  | { ok: true; exitCode?: number; result?: JsonResult }
  | { ok: false; error: TaskError; exitCode?: number };

/** What an executor gets: its spec, a signal that aborts on cancel or shutdown, and a log sink. */
export interface TaskContext<S extends TaskSpec = TaskSpec> {
  assignment: Assignment;
  spec: S;
  signal: AbortSignal;
  /** Announces that the task really began (a process was spawned); sent as a `started` frame. */
  started(): void;
  /** Streams output to the control plane; chunks are at most MAX_LOG_CHUNK_BYTES each. */
  log(chunks: LogChunk[]): void;
  /** Reports how far the task is (throttled; best effort, never queued). */
  progress(figures: Progress): void;
}

/** Data read so far, or a pipeline's steps so far. */
export type Progress =
  { rowsRead: number; bytesRead: number; bytesCached?: number } | { steps: StepReport[] };

export type Executor<S extends TaskSpec> = (
  task: TaskContext<S>,
) => TaskOutcome | Promise<TaskOutcome>;

export type CommandSpec = Extract<TaskSpec, { kind: 'command' }>;
export type EchoSpec = Extract<TaskSpec, { kind: 'echo' }>;
export type MapSpec = Extract<TaskSpec, { kind: 'aggregate-map' }>;
export type ReduceSpec = Extract<TaskSpec, { kind: 'aggregate-reduce' }>;
export type FinalSpec = Extract<TaskSpec, { kind: 'aggregate-final' }>;
export type PipelineSpec = Extract<TaskSpec, { kind: 'pipeline' }>;

export interface Executors {
  command: Executor<CommandSpec>;
  echo: Executor<EchoSpec>;
  'aggregate-map': Executor<MapSpec>;
  'aggregate-reduce': Executor<ReduceSpec>;
  'aggregate-final': Executor<FinalSpec>;
  pipeline: Executor<PipelineSpec>;
}

export function failure(
  type: TaskError['type'],
  message: string,
  extra: { nonRetryable?: boolean; exitCode?: number } = {},
): TaskOutcome {
  const error: TaskError = { type, message: message.slice(0, 4096) };
  if (extra.nonRetryable) error.nonRetryable = true;
  if (extra.exitCode === undefined) return { ok: false, error };
  return { ok: false, error, exitCode: extra.exitCode };
}

/** An unexpected throw, reported as a retryable internal failure. */
export function internalFailure(cause: unknown): TaskOutcome {
  const message = cause instanceof Error ? cause.message : String(cause);
  return failure('internal', `agent error: ${message}`);
}
