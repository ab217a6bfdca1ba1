/** Pure planning of a submitted job: its stored spec, its tasks, and what each task runs. */
import { z } from 'zod';
import {
  CommandSpec,
  type SubmitJobRequest,
  type TaskSpec,
  type WorkerSelector,
} from '../protocol/index.ts';
import { resolvePolicy, type JobPolicy } from './job-policy.ts';

/** Jobs whose tasks all run the same spec: commands and echo probes. */
export type SimpleJobRequest = Extract<SubmitJobRequest, { kind: 'command' | 'echo' }>;

export interface PlannedTask {
  pinnedWorkerId: string | null;
  /** The worker that already read the task's input (an aggregate's split), tried first. */
  preferredWorkerId?: string | null;
  /** The task's own part of the spec (an aggregate's split or partition); null when the job's spec says all. */
  spec?: unknown;
  /** The pipeline a pipeline task belongs to, and the executors its agent must have. */
  pipeline?: { id: string; requires: readonly string[] };
  /** A dataflow task's stage (by index) and kind, which differs from stage to stage. */
  stage?: number;
  kind?: string;
  /** A stream group's task: placed with its whole group at once (gang-dispatch.ts). */
  gang?: number;
}

/** A job ready to insert: its stored spec and its first tasks. */
export interface JobDraft {
  id: string;
  kind: string;
  /** The kind of the first tasks, when it differs from the job's (an aggregate starts with maps). */
  taskKind?: string;
  name: string | null;
  spec: Record<string, unknown>;
  policy: JobPolicy;
  phase: string | null;
  tasks: PlannedTask[];
  /** A dataflow job's number of stages: they start waiting, and their tasks come as they start. */
  stages?: number;
  /** Tasks to count against the queue's bound when they are not `tasks` (a dataflow's first). */
  admitting?: number;
  /** The dataflow stage that launched this job (an aggregate stage's), which ends as it ends. */
  parent?: { job_id: string; stage: number };
}

export interface CandidateWorker {
  id: string;
  state: string;
  acceptsCommands: boolean;
}

export type TargetError =
  | { code: 'no_workers'; message: string }
  | { code: 'unknown_workers'; message: string; ids: string[] }
  | { code: 'refuses_commands'; message: string; ids: string[] };

/** The part of a request that each task runs, as stored with the job. */
export function storedSpec(request: SimpleJobRequest): Record<string, unknown> {
  if (request.kind === 'command') {
    return {
      command: request.command,
      path: request.path ?? '.',
      env: request.env ?? {},
      ...(request.timeoutSeconds ? { timeoutSeconds: request.timeoutSeconds } : {}),
      ...(request.workers !== undefined ? { workers: request.workers } : {}),
    };
  }
  return {
    payload: request.payload ?? null,
    count: request.count ?? 1,
    ...(request.workers !== undefined ? { workers: request.workers } : {}),
  };
}

/** A command job's stored spec (storedSpec), read back as what each of its tasks runs. */
const StoredCommandSpec = z
  .object({
    command: CommandSpec,
    path: z.string(),
    env: z.record(z.string(), z.string()),
    timeoutSeconds: z.number().optional(),
  })
  .transform(({ command, path, env, timeoutSeconds }): TaskSpec => ({
    kind: 'command',
    command,
    path,
    env,
    ...(timeoutSeconds ? { timeoutSeconds } : {}),
  }));
/** An echo job's stored spec, read back as what each of its tasks runs. */
const StoredEchoSpec = z
  .object({ payload: z.json().optional() })
  .transform(({ payload }): TaskSpec => ({ kind: 'echo', payload }));

/** The schema that reads a command or echo job's stored spec as its tasks' spec. */
export const storedTaskSpec = (kind: string): z.ZodType<TaskSpec> =>
  kind === 'command' ? StoredCommandSpec : StoredEchoSpec;

/** What an agent receives for each task of a job with this kind and stored spec (parsed, not cast). */
export const simpleTaskSpec = (kind: string, spec: unknown): TaskSpec =>
  storedTaskSpec(kind).parse(spec);

export function draftSimpleJob(
  id: string,
  request: SimpleJobRequest,
  tasks: PlannedTask[],
): JobDraft {
  return {
    id,
    kind: request.kind,
    name: request.name ?? null,
    spec: storedSpec(request),
    policy: resolvePolicy(request, 0),
    phase: null,
    tasks,
  };
}

/**
 * Expands a worker selector into tasks: one unpinned task per count, one pinned task per worker
 * for "all" (ready workers able to run it) or explicit ids. Echo jobs repeat that `count` times.
 */
export function planTasks(
  request: SimpleJobRequest,
  workers: readonly CandidateWorker[],
): { tasks: PlannedTask[] } | { error: TargetError } {
  const targets = expandSelector(request.workers, request.kind === 'command', workers);
  if ('error' in targets) return targets;
  const repeat = request.kind === 'echo' ? (request.count ?? 1) : 1;
  const tasks: PlannedTask[] = [];
  for (const pinnedWorkerId of targets.pins) {
    for (let i = 0; i < repeat; i++) tasks.push({ pinnedWorkerId });
  }
  return { tasks };
}

function expandSelector(
  selector: WorkerSelector | undefined,
  needsCommands: boolean,
  workers: readonly CandidateWorker[],
): { pins: (string | null)[] } | { error: TargetError } {
  if (selector === undefined) return { pins: [null] };
  if (typeof selector === 'number') return { pins: Array.from({ length: selector }, () => null) };
  if (selector === 'all') {
    const ready = workers.filter(
      (w) => w.state === 'ready' && (!needsCommands || w.acceptsCommands),
    );
    if (ready.length === 0) {
      return {
        error: {
          code: 'no_workers',
          message: 'no ready worker can run this job ("workers": "all")',
        },
      };
    }
    return { pins: ready.map((w) => w.id) };
  }
  const live = new Set(workers.filter((w) => w.state !== 'gone').map((w) => w.id));
  const unknown = selector.filter((id) => !live.has(id));
  if (unknown.length > 0) {
    return {
      error: {
        code: 'unknown_workers',
        message: `unknown workers: ${unknown.join(', ')}`,
        ids: unknown,
      },
    };
  }
  const refusing = needsCommands
    ? workers.filter((w) => selector.includes(w.id) && !w.acceptsCommands).map((w) => w.id)
    : [];
  if (refusing.length > 0) {
    const message = `workers ${refusing.join(', ')} run no command tasks (their agents use --no-commands)`;
    return { error: { code: 'refuses_commands', message, ids: refusing } };
  }
  return { pins: [...new Set(selector)] };
}
