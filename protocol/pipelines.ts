/**
 * Applications and their pipelines: how a pipeline is defined, how tasks are submitted to it, what
 * the API shows of both, and what an agent receives and reports for a pipeline task.
 */
import { z } from 'zod';
import { FaultPolicyFields } from './policy.ts';
import { RetentionFields } from './retention.ts';
import { TaskState } from './task-state.ts';
import { isBuiltinVariable, stepIssues, stepName } from './pipeline-steps.ts';
import { VARIABLE_NAME } from './template.ts';

export const MAX_PIPELINE_STEPS = 16;
export const MAX_COMMANDS_PER_STEP = 16;
export const MAX_COMMAND_TEMPLATE_CHARS = 4096;
/** Most tasks one submit call (one job) may carry. */
export const MAX_TASKS_PER_SUBMIT = 10_000;
export const MAX_TASK_VARIABLES = 64;
export const MAX_VARIABLE_VALUE_CHARS = 16 * 1024;
/** A definition and one task's data, as JSON: bounded so an `assign` frame always has room. */
export const MAX_DEFINITION_CHARS = 64 * 1024;
export const MAX_TASK_DATA_CHARS = 64 * 1024;
/** Most stdout of one step kept for the task's result; the rest is in the logs only. */
export const MAX_STEP_OUTPUT_BYTES = 64 * 1024;
/** Most stdout kept of all steps of a task together, so its result always fits a frame. */
export const MAX_TASK_OUTPUT_BYTES = 512 * 1024;
/** Most executors one agent may announce. */
export const MAX_EXECUTORS = 64;
export const DEFAULT_MAX_CONCURRENCY = 100;
export const DEFAULT_TARGET_QUEUE_SECONDS = 60;
const WEEK_SECONDS = 7 * 24 * 3600;

/** Application, pipeline and step names. */
export const ResourceName = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9_-]{0,62}$/,
    'names are 1-63 of a-z, 0-9, - and _, starting with a letter or digit',
  );

/** What an agent can run, as it announces it (`--executor wget`) and as steps name it. */
export const ExecutorName = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9._+-]{0,62}$/,
    'executor names are 1-63 of a-z, 0-9, ., +, - and _, starting with a letter or digit',
  );

export const PipelineStep = z.strictObject({
  /** Defaults to the executor; steps that share an executor need names of their own. */
  name: ResourceName.optional(),
  /** An agent runs this task only if it has every executor the steps name. */
  executor: ExecutorName,
  /** Run in order, each as an argv without a shell: see protocol/template.ts. */
  commands: z
    .array(z.string().max(MAX_COMMAND_TEMPLATE_CHARS))
    .min(1, 'a step needs at least one command')
    .max(MAX_COMMANDS_PER_STEP),
  /** Each command of the step may run this long. */
  timeoutSeconds: z.number().positive().max(WEEK_SECONDS).optional(),
});

const DEFINITION_FIELDS = {
  pipeline: z
    .array(PipelineStep)
    .min(1, 'a pipeline needs at least one step')
    .max(MAX_PIPELINE_STEPS),
  /** The step whose stdout is the task's result (default: the last). */
  result: ResourceName.optional(),
  /** Most tasks of this pipeline running at once (default 100). */
  maxConcurrency: z.number().int().min(1).max(10_000).optional(),
  /** How long a task should wait in the queue at most; the scaling figures aim at it (default 60). */
  targetQueueSeconds: z.number().positive().max(86_400).optional(),
  ...FaultPolicyFields,
  ...RetentionFields,
};

function checkSteps(
  value: { pipeline: z.infer<typeof PipelineStep>[]; result?: string | undefined },
  ctx: z.RefinementCtx,
): void {
  for (const issue of stepIssues(value.pipeline, value.result))
    ctx.addIssue({ code: 'custom', path: issue.path, message: issue.message });
  const chars = JSON.stringify(value).length;
  if (chars > MAX_DEFINITION_CHARS)
    ctx.addIssue({
      code: 'custom',
      message: `the definition is ${chars} characters of JSON; at most ${MAX_DEFINITION_CHARS}`,
    });
}

export const PipelineDefinition = z.strictObject(DEFINITION_FIELDS).superRefine(checkSteps);
export type PipelineDefinition = z.infer<typeof PipelineDefinition>;

export const InlinePipelineRequest = z
  .strictObject({ name: ResourceName, ...DEFINITION_FIELDS })
  .superRefine(checkSteps);

/** Where a pipeline definition is read from: an object (JSON) in a registered store. */
export const PipelineSource = z.strictObject({
  store: z.string().min(1).max(200),
  /** Relative to the store's prefix. */
  key: z.string().min(1).max(1024),
});
export type PipelineSource = z.infer<typeof PipelineSource>;
export const StoredPipelineRequest = z.strictObject({ name: ResourceName, from: PipelineSource });

/** Creates a pipeline or adds a version: the definition inline, or `from` an object store. */
export const CreatePipelineRequest = z.union([InlinePipelineRequest, StoredPipelineRequest]);
export type CreatePipelineRequest = z.infer<typeof CreatePipelineRequest>;

/** The object `from` names: a definition, with the pipeline's own name optionally. */
export const PipelineObject = z
  .strictObject({ name: ResourceName.optional(), ...DEFINITION_FIELDS })
  .superRefine(checkSteps);

/** A definition as stored for one version: names and defaults filled in. */
export const PipelineSpec = z.object({
  pipeline: z.array(
    z.object({
      name: z.string(),
      executor: z.string(),
      commands: z.array(z.string()),
      timeoutSeconds: z.number().optional(),
    }),
  ),
  result: z.string(),
  maxConcurrency: z.number().int(),
  targetQueueSeconds: z.number(),
  ...FaultPolicyFields,
  ...RetentionFields,
});
export type PipelineSpec = z.infer<typeof PipelineSpec>;

export function normalizeDefinition(definition: PipelineDefinition): PipelineSpec {
  const { pipeline, result, maxConcurrency, targetQueueSeconds, ...policy } = definition;
  const steps = pipeline.map((step) => ({ ...step, name: stepName(step) }));
  return {
    ...policy,
    pipeline: steps,
    result: result ?? steps.at(-1)?.name ?? '',
    maxConcurrency: maxConcurrency ?? DEFAULT_MAX_CONCURRENCY,
    targetQueueSeconds: targetQueueSeconds ?? DEFAULT_TARGET_QUEUE_SECONDS,
  };
}

// ---- submitting tasks ----

const DataValue = z.union([
  z
    .string()
    .max(MAX_VARIABLE_VALUE_CHARS)
    .refine((value) => !value.includes('\0'), 'a value may not contain a NUL character'),
  z.number(),
  z.boolean(),
]);

/** One task's data: the values of the `{{variables}}` of its pipeline's commands. */
export const PipelineTaskData = z.record(z.string(), DataValue).superRefine((data, ctx) => {
  const names = Object.keys(data);
  if (names.length > MAX_TASK_VARIABLES)
    ctx.addIssue({ code: 'custom', message: `at most ${MAX_TASK_VARIABLES} variables per task` });
  const chars = JSON.stringify(data).length;
  if (chars > MAX_TASK_DATA_CHARS)
    ctx.addIssue({
      code: 'custom',
      message: `a task's data is ${chars} characters of JSON; at most ${MAX_TASK_DATA_CHARS}`,
    });
  for (const name of names) {
    if (!VARIABLE_NAME.test(name))
      ctx.addIssue({
        code: 'custom',
        path: [name],
        message: `"${name}" is not a variable name: use letters, digits and _, starting with a letter or _`,
      });
    else if (isBuiltinVariable(name))
      ctx.addIssue({
        code: 'custom',
        path: [name],
        message: `{{${name}}} is set by the agent for every task; task data may not give it`,
      });
  }
});
export type PipelineTaskData = z.infer<typeof PipelineTaskData>;

/** Many tasks in one call: one job with a task per item. */
export const PipelineBatch = z.array(PipelineTaskData).min(1).max(MAX_TASKS_PER_SUBMIT);
/** A JSON object submits one task, an array of objects one task per item. */
export const SubmitPipelineRequest = z.union([PipelineTaskData, PipelineBatch]);

/** Values as the commands get them: every value is text. */
export function dataStrings(data: PipelineTaskData): Record<string, string> {
  return Object.fromEntries(Object.entries(data).map(([name, value]) => [name, String(value)]));
}

/** Whose applications a GET reads (docs/pipelines.md, "The admin's view"). */
const tenantParam = {
  /** The admin names the tenant (required); a tenant may name only itself. */
  tenant: z.guid().optional(),
};

/** The query of GETs of applications, their pipelines and their tasks. */
export const ApplicationsQuery = z.strictObject(tenantParam);

export const PipelineQuery = z.strictObject({
  ...tenantParam,
  /** Show this version's definition instead of the latest. */
  version: z.coerce.number().int().min(1).optional(),
});

// ---- what the API shows ----

export const StepState = z.enum(['pending', 'running', 'succeeded', 'failed']);

export const StepView = z.object({
  name: z.string(),
  executor: z.string(),
  state: StepState,
  exitCode: z.number().int().nullable(),
  /** The step's stdout, up to 64 KiB (512 KiB for all steps); null until the task has succeeded. */
  output: z.string().nullable(),
  truncated: z.boolean(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
});
export type StepView = z.infer<typeof StepView>;

export const PipelineTaskView = z.object({
  id: z.string(),
  jobId: z.string(),
  application: z.string(),
  pipeline: z.string(),
  /** The pipeline version this task runs, fixed when it was submitted. */
  version: z.number().int(),
  index: z.number().int(),
  state: TaskState,
  attempt: z.number().int(),
  workerId: z.string().nullable(),
  data: z.record(z.string(), z.string()),
  steps: z.array(StepView),
  /** The stdout of the pipeline's result step, once the task has succeeded. */
  result: z.string().nullable(),
  exitCode: z.number().int().nullable(),
  error: z.string().nullable(),
  /** Why a queued task is not running yet. */
  waiting: z.string().nullable(),
  createdAt: z.string(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
});
export type PipelineTaskView = z.infer<typeof PipelineTaskView>;

export const PipelineSubmission = z.object({
  application: z.string(),
  pipeline: z.string(),
  version: z.number().int(),
  jobId: z.string(),
  /** Every task of the submission, in the order of the data items. */
  taskIds: z.array(z.string()),
  /** The first 100 tasks in full (with `?wait=`, as they ended), fewer past VIEW_BUDGET_BYTES. */
  tasks: z.array(PipelineTaskView),
});
export type PipelineSubmission = z.infer<typeof PipelineSubmission>;

/** Load and scaling figures of a pipeline, for people and for autoscalers (docs/pipelines.md). */
export const PipelineStats = z.object({
  queued: z.number().int(),
  running: z.number().int(),
  /** Tasks that ended within the window, by outcome. */
  succeeded: z.number().int(),
  failed: z.number().int(),
  /** The window throughput and the counts above are measured over. */
  windowSeconds: z.number(),
  /** Tasks that ended (succeeded or failed) per minute over the window. */
  throughputPerMinute: z.number(),
  /** Mean run time of its last succeeded tasks; null before any. */
  meanTaskSeconds: z.number().nullable(),
  /** Connected, ready agents that have every executor of the latest version. */
  readyAgents: z.number().int(),
  /** Task slots per such agent (their mean; 1 when there are none). */
  slotsPerAgent: z.number(),
  wantedSlots: z.number().int(),
  wantedAgents: z.number().int(),
});
export type PipelineStats = z.infer<typeof PipelineStats>;

export const PipelineView = z.object({
  application: z.string(),
  name: z.string(),
  /** The version shown (the latest unless `?version=` asked for another). */
  version: z.number().int(),
  latestVersion: z.number().int(),
  definition: PipelineSpec,
  executors: z.array(z.string()),
  versionCreatedAt: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
  stats: PipelineStats,
});
export type PipelineView = z.infer<typeof PipelineView>;

export const PipelineSummary = z.object({
  name: z.string(),
  version: z.number().int(),
  updatedAt: z.string(),
});

export const ApplicationView = z.object({
  name: z.string(),
  createdAt: z.string(),
  pipelines: z.array(PipelineSummary),
});
export type ApplicationView = z.infer<typeof ApplicationView>;

// ---- agent wire ----

/** What an agent receives for one pipeline task: the steps of its version and its data. */
export const PipelineTaskSpec = z.strictObject({
  kind: z.literal('pipeline'),
  application: z.string(),
  pipeline: z.string(),
  version: z.number().int().min(1),
  steps: z
    .array(
      z.strictObject({
        name: z.string(),
        executor: z.string(),
        commands: z.array(z.string()).min(1),
        timeoutSeconds: z.number().positive().optional(),
      }),
    )
    .min(1)
    .max(MAX_PIPELINE_STEPS),
  /** The step whose stdout is the result. */
  result: z.string(),
  data: z.record(z.string(), z.string()),
  /** The whole attempt may run this long. */
  timeoutSeconds: z.number().positive().optional(),
});
export type PipelineTaskSpec = z.infer<typeof PipelineTaskSpec>;

/** A step as a running task reports it in `progress` frames. */
export const StepReport = z.strictObject({
  name: z.string().max(64),
  executor: z.string().max(64),
  state: z.enum(['running', 'succeeded', 'failed']),
  exitCode: z.number().int().nullable(),
  startedAt: z.string().max(40),
  finishedAt: z.string().max(40).nullable(),
});
export type StepReport = z.infer<typeof StepReport>;

/** A pipeline task's result, as its `complete` frame carries it. */
export const PipelineResult = z.object({
  steps: z.array(
    z.object({
      name: z.string(),
      executor: z.string(),
      exitCode: z.number().int(),
      output: z.string(),
      truncated: z.boolean(),
      startedAt: z.string(),
      finishedAt: z.string(),
    }),
  ),
  result: z.string(),
});
export type PipelineResult = z.infer<typeof PipelineResult>;
