/**
 * Dataflow jobs: a DAG of named stages, each running N instances of a command or an echo task. A
 * stage starts when every stage it depends on has ended well; what its upstreams printed reaches
 * it as environment variables and files. The rules on the graph itself are in dataflow-graph.ts.
 */
import { z } from 'zod';
import { MAX_TASKS_PER_JOB } from './limits.ts';

/** Most stages one dataflow job may have. */
export const MAX_STAGES = 1000;
/**
 * Most bytes of stdout a stage's task keeps as its result (the last ones it printed), and most
 * bytes of upstream results one task may receive: both fit an `assign` frame many times over.
 */
export const MAX_STAGE_RESULT_BYTES = 64 * 1024;
export const MAX_STAGE_INPUT_BYTES = 256 * 1024;

/** Most files one command stage may declare as its outputs. */
export const MAX_STAGE_OUTPUTS = 64;
/** Largest output file a stage's agent uploads (read whole, then PUT). */
export const MAX_STAGE_OUTPUT_BYTES = 256 * 1024 * 1024;
/** Most files (aggregate results and upstream outputs) one stage instance receives. */
export const MAX_STAGE_FILES = 1000;

/**
 * A file a command stage writes into its outputs folder (`$TM_OUTPUTS`, `{{outputs}}`): a plain
 * name, no folders, so the agent reads exactly that file and nothing a symlink points at.
 */
export const OutputName = z
  .string()
  .regex(
    /^(?!\.\.?$)[A-Za-z0-9._-]{1,128}$/,
    'an output is a file name of 1 to 128 letters, digits, ".", "_" or "-" (no folders)',
  );

/** Where a dataflow job's stages' output files go: a folder of a registered store. */
export const OutputsLocation = z.strictObject({
  store: z.string().min(1).max(64),
  prefix: z.string().max(1024),
});

/** A stage's name: also part of its environment variable (TM_INPUT_<name>), so a word. */
export const StageName = z
  .string()
  .regex(
    /^[A-Za-z_][A-Za-z0-9_]{0,63}$/,
    'a stage name is a letter or _ then up to 63 letters, digits or _',
  );

/** A barrier's name, as a stream task gives it (`barrier NAME` on fd 3). */
export const BarrierName = z
  .string()
  .regex(
    /^[\x21-\x7e]{1,128}$/,
    'a barrier name is 1 to 128 printable ASCII characters, no spaces',
  );

export const StageFields = {
  name: StageName,
  /** Instances of the stage that run at once (default 1). */
  parallelism: z.number().int().min(1).max(MAX_TASKS_PER_JOB).optional(),
  /** Stages that must end before this one starts. */
  dependsOn: z.array(StageName).max(MAX_STAGES).optional(),
  /** When this stage fails (after its retries), the job goes on as if it had succeeded. */
  continueOnFailure: z.boolean().optional(),
  /**
   * Stages whose records this stage reads while they run (stream edges): their instances' stdout
   * lines reach this stage's instances' stdin, agent to agent. Stages joined by stream edges run
   * together, all instances at once.
   */
  streamFrom: z.array(StageName).max(MAX_STAGES).optional(),
  /**
   * The field of each record (a JSON object per line) that picks the instance it goes to: equal
   * keys meet at one instance. Without it, records are dealt round-robin.
   */
  key: z.string().min(1).max(256).optional(),
};

export const StageState = z.enum([
  /** Waiting for its upstream stages. */
  'waiting',
  'running',
  'succeeded',
  'failed',
  /** Never ran: the job failed or was cancelled first, or an upstream was cancelled. */
  'cancelled',
]);
export type StageState = z.infer<typeof StageState>;

export const StageView = z.object({
  name: z.string(),
  kind: z.string(),
  state: StageState,
  parallelism: z.number().int(),
  dependsOn: z.array(z.string()),
  continueOnFailure: z.boolean(),
  counts: z.object({
    queued: z.number().int(),
    running: z.number().int(),
    succeeded: z.number().int(),
    failed: z.number().int(),
    cancelled: z.number().int(),
  }),
  /** Why the stage failed or was cancelled; null otherwise. */
  error: z.string().nullable(),
  streamFrom: z.array(z.string()),
  /** What a waiting stream group waits for (free slots for all its instances at once); else null. */
  waitingFor: z.string().nullable(),
  /** The stream group's restarts so far (each runs every instance of the group again). */
  restarts: z.number().int(),
  /** The job an aggregate stage launched, once it has; else null. */
  job: z.string().nullable(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
});
export type StageView = z.infer<typeof StageView>;
