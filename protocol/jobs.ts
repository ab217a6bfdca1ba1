/** API schemas for jobs and tasks: what a client submits and what it reads back. */
import { z } from 'zod';
import { isContainedPath } from './paths.ts';
import { MAX_PAGE_ROWS, MAX_TASKS_PER_JOB } from './limits.ts';
import { Cursor } from './page-cursor.ts';
import {
  AGGREGATE_FIELDS,
  AggregateJobRequest,
  AggregateProgress,
  checkAggregation,
} from './aggregate.ts';
import { AttemptCounts, AttemptView, FaultPolicyFields } from './policy.ts';
import { RetentionFields } from './retention.ts';
import {
  MAX_STAGE_OUTPUTS,
  MAX_STAGES,
  OutputName,
  OutputsLocation,
  StageFields,
  StageName,
  StageView,
} from './dataflow.ts';
import { graphIssues } from './dataflow-graph.ts';
import { templateIssues } from './dataflow-templates.ts';
import { MAX_TASKS_PER_SUBMIT, PipelineTaskData, ResourceName } from './pipelines.ts';
import { TaskState } from './task-state.ts';

const CommandLine = z
  .string()
  .max(64 * 1024)
  .refine((command) => command.trim().length > 0, 'command must not be empty');
const Argv = z
  .array(z.string().max(64 * 1024))
  .min(1, 'command must not be empty')
  .max(4096)
  .refine((argv) => (argv[0] ?? '').trim().length > 0, 'the program (argv[0]) must not be empty');

/** A shell line (run with `sh -c`) or an argv array (run directly, no shell). */
export const CommandSpec = z.union([CommandLine, Argv]);

/** A working directory relative to the agent's work dir; it may not escape it. */
export const RelativePath = z
  .string()
  .max(4096)
  .refine(isContainedPath, 'path must be relative and stay inside the agent work dir');

const EnvName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'invalid environment variable name');

/** Which workers run the job: every ready worker, a number of tasks, or explicit worker ids. */
export const WorkerSelector = z.union([
  z.literal('all'),
  z.number().int().min(1).max(MAX_TASKS_PER_JOB),
  z.array(z.uuid()).min(1).max(1024),
]);
export type WorkerSelector = z.infer<typeof WorkerSelector>;

const Common = {
  name: z.string().min(1).max(200).optional(),
  ...FaultPolicyFields,
  ...RetentionFields,
};

export const CommandJobRequest = z.strictObject({
  kind: z.literal('command'),
  command: CommandSpec,
  path: RelativePath.optional(),
  env: z.record(EnvName, z.string().max(64 * 1024)).optional(),
  workers: WorkerSelector.optional(),
  ...Common,
});

/** An echo's payload: any JSON value (one schema, so the API's document defines it once). */
const Payload = z.json();

export const EchoJobRequest = z.strictObject({
  kind: z.literal('echo'),
  payload: Payload.optional(),
  /** Number of echo tasks; the probe for scheduler overhead. */
  count: z.number().int().min(1).max(MAX_TASKS_PER_JOB).optional(),
  workers: WorkerSelector.optional(),
  ...Common,
});

/** A dataflow stage whose instances each run a command; its stdout's end is its result. */
export const CommandStage = z.strictObject({
  kind: z.literal('command'),
  command: CommandSpec,
  path: RelativePath.optional(),
  env: z.record(EnvName, z.string().max(64 * 1024)).optional(),
  timeoutSeconds: z
    .number()
    .positive()
    .max(7 * 24 * 3600)
    .optional(),
  /**
   * Files the command writes into its outputs folder (`$TM_OUTPUTS`, or `{{outputs}}` in an argv
   * word), uploaded when it succeeds to the job's `outputs` location and handed to the stages
   * that depend on it. A declared file it did not write fails the attempt.
   */
  outputs: z
    .array(OutputName)
    .max(MAX_STAGE_OUTPUTS)
    .refine((names) => new Set(names).size === names.length, 'an output is named twice')
    .optional(),
  ...StageFields,
});
/** A dataflow stage of echo tasks: no process, the probe for the DAG's own overhead. */
export const EchoStage = z.strictObject({
  kind: z.literal('echo'),
  payload: Payload.optional(),
  ...StageFields,
});
/**
 * A dataflow stage whose instances are tasks of one of the tenant's pipelines, at the version
 * that was latest at submit. `data` gives the pipeline's `{{variables}}`: one object for every
 * instance, or a list of objects, one instance each. A value may hold `{{stage}}` or
 * `{{stage.N}}` of a stage it depends on; the task's result is its result step's stdout.
 */
export const PipelineStage = z.strictObject({
  kind: z.literal('pipeline'),
  application: ResourceName,
  pipeline: ResourceName,
  data: z
    .union([PipelineTaskData, z.array(PipelineTaskData).min(1).max(MAX_TASKS_PER_SUBMIT)])
    .optional(),
  ...StageFields,
});
/**
 * A dataflow stage that runs one aggregate job (its fields are an aggregate job's) once the
 * stages it depends on have ended. Its result is the aggregation's Arrow IPC table: a command
 * stage that depends on it finds it at `$TM_INPUTS/<stage>/result.arrow`.
 */
export const AggregateStage = z
  .strictObject({ kind: z.literal('aggregate'), ...AGGREGATE_FIELDS, ...StageFields })
  .superRefine(checkAggregation);
export const Stage = z.discriminatedUnion('kind', [
  CommandStage,
  EchoStage,
  PipelineStage,
  AggregateStage,
]);
export type Stage = z.infer<typeof Stage>;

export const DataflowJobRequest = z
  .strictObject({
    kind: z.literal('dataflow'),
    stages: z
      .array(Stage)
      .min(1, 'a dataflow job needs at least one stage')
      .max(MAX_STAGES, `a dataflow job has at most ${MAX_STAGES} stages`),
    /** Where the stages' declared output files are uploaded: `<prefix>/<job id>/<stage>/…`. */
    outputs: OutputsLocation.optional(),
    ...Common,
  })
  .superRefine((job, ctx) => {
    for (const issue of [...graphIssues(job.stages), ...templateIssues(job.stages)])
      ctx.addIssue({ code: 'custom', path: issue.path, message: issue.message });
    if (job.outputs) return;
    job.stages.forEach((stage, s) => {
      if (stage.kind === 'command' && stage.outputs?.length)
        ctx.addIssue({
          code: 'custom',
          path: ['stages', s, 'outputs'],
          message: `stage "${stage.name}" declares outputs: give the job an "outputs" location ({store, prefix}) to upload them to`,
        });
    });
  });
export type DataflowJobRequest = z.infer<typeof DataflowJobRequest>;

export const JOB_KINDS = ['command', 'echo', 'aggregate', 'dataflow'] as const;
export const SubmitJobRequest = z.discriminatedUnion('kind', [
  CommandJobRequest,
  EchoJobRequest,
  AggregateJobRequest,
  DataflowJobRequest,
]);
export type SubmitJobRequest = z.infer<typeof SubmitJobRequest>;

export const SubmitJobQuery = z.strictObject({
  /** Hold the reply until the job ends, up to this many seconds. */
  wait: z.coerce.number().min(0).max(300).optional(),
});

export const JobState = z.enum(['queued', 'running', 'succeeded', 'failed', 'cancelled']);
export type JobState = z.infer<typeof JobState>;
/** Slots a task of this kind holds while it runs: the Scheduler counts them, the agent keeps to them. */
export const taskCost = (kind: string): number => (kind === 'echo' ? 0 : 1);

/** Whether a job (or task) in this state has ended: nothing about it changes any more. */
export const isEndState = (state: string): boolean =>
  state === 'succeeded' || state === 'failed' || state === 'cancelled';

export const TaskView = z.object({
  id: z.string(),
  jobId: z.string(),
  index: z.number().int(),
  kind: z.string(),
  state: TaskState,
  attempt: z.number().int(),
  workerId: z.string().nullable(),
  pinnedWorkerId: z.string().nullable(),
  exitCode: z.number().int().nullable(),
  error: z.string().nullable(),
  /** The result, when its JSON is at most RESULT_PREVIEW_BYTES; else null and `resultOmitted`. */
  result: z.unknown().nullable(),
  /** Bytes of the stored result's JSON; null: no result. */
  resultBytes: z.number().int().nullable(),
  /** The result is larger than a view shows: read it at `GET /v1/tasks/:id/result`. */
  resultOmitted: z.boolean(),
  logTruncated: z.boolean(),
  createdAt: z.string(),
  assignedAt: z.string().nullable(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
  /** A dataflow task's stage and its instance in it. */
  stage: z.object({ name: z.string(), instance: z.number().int() }).optional(),
  /** Every ended attempt, oldest first (only on `GET /v1/tasks/:id`). */
  history: z.array(AttemptView).optional(),
});
export type TaskView = z.infer<typeof TaskView>;

export const TaskCounts = z.object({
  queued: z.number().int(),
  running: z.number().int(),
  succeeded: z.number().int(),
  failed: z.number().int(),
  cancelled: z.number().int(),
});
export type TaskCounts = z.infer<typeof TaskCounts>;

export const JobView = z.object({
  id: z.string(),
  name: z.string().nullable(),
  /** The tenant that owns the job; null for the admin's own jobs. */
  tenantId: z.string().nullable(),
  kind: z.string(),
  state: JobState,
  spec: z.unknown(),
  error: z.string().nullable(),
  counts: TaskCounts,
  /** Every ended attempt of the job's tasks, by outcome. */
  attempts: AttemptCounts,
  progress: AggregateProgress.optional(),
  /** A dataflow job's stages, in the order submitted. */
  stages: z.array(StageView).optional(),
  createdAt: z.string(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
  /**
   * When retention removes the ended job (its own `retentionSeconds`, or the cluster's if shorter);
   * null while it runs. `TM_MAX_FINISHED_JOBS` may remove it sooner.
   */
  removeAfter: z.string().nullable(),
  /** The first page of its tasks, by index (only on `GET /v1/jobs/:id` and the submit reply). */
  tasks: z.array(TaskView).optional(),
  /** With `tasks`: the cursor of the next page at `GET /v1/jobs/:id/tasks`; null: none left. */
  tasksNext: z.string().nullable().optional(),
});
export type JobView = z.infer<typeof JobView>;

/** A task's whole stored result (`GET /v1/tasks/:id/result`), which views show only when small. */
export const TaskResult = z.object({
  id: z.string(),
  result: z.unknown().nullable(),
  resultBytes: z.number().int().nullable(),
});
export type TaskResult = z.infer<typeof TaskResult>;

/** The cursor of a view's next page (`?cursor=`); null: this page was the last. */
const Next = z.string().nullable();
export const JobPage = z.object({ jobs: z.array(JobView), next: Next });
export type JobPage = z.infer<typeof JobPage>;
export const TaskPage = z.object({ tasks: z.array(TaskView), next: Next });
export type TaskPage = z.infer<typeof TaskPage>;

const PageLimit = z.coerce.number().int().min(1).max(MAX_PAGE_ROWS);

/** Jobs, newest first: `limit` (default 100) per page, within VIEW_BUDGET_BYTES. */
/** An ISO 8601 time in a query, as milliseconds since the epoch. */
const QueryTime = z.iso.datetime({ offset: true }).transform((text) => Date.parse(text));

/**
 * Jobs, newest first, filtered by state, kind, owning tenant (the admin's filter; a tenant sees
 * only its own whatever it asks) and creation time: `since` inclusive, `until` exclusive.
 */
export const ListJobsQuery = z
  .strictObject({
    state: JobState.optional(),
    kind: z.enum(JOB_KINDS).optional(),
    tenant: z.uuid().optional(),
    since: QueryTime.optional(),
    until: QueryTime.optional(),
    limit: PageLimit.optional(),
    cursor: Cursor.optional(),
  })
  .refine((q) => q.since === undefined || q.until === undefined || q.since < q.until, {
    message: '"since" must be before "until"',
  });

/** Tasks across jobs, newest first: `limit` (default 1000) per page, within VIEW_BUDGET_BYTES. */
const TaskPageFields = {
  state: TaskState.optional(),
  limit: PageLimit.optional(),
  cursor: Cursor.optional(),
};

/** Tasks across jobs, newest first; `worker` keeps those its current (or last) attempt ran on. */
export const ListTasksQuery = z.strictObject({ ...TaskPageFields, worker: z.uuid().optional() });

/**
 * A job's tasks by index: `limit` (default 1000) per page, within VIEW_BUDGET_BYTES; of a dataflow
 * job, `stage` keeps one stage's.
 */
export const JobTasksQuery = z.strictObject({ ...TaskPageFields, stage: StageName.optional() });

export const JobQuery = z.strictObject({
  /** Include at most this many tasks in the job view (default 1000; 0: none, counts only). */
  tasks: z.coerce.number().int().min(0).max(MAX_PAGE_ROWS).optional(),
});
