/** `tm pipeline put|show|submit|task`: an application's pipelines, with a tenant's token. */
import { readFile } from 'node:fs/promises';
import {
  isEndState,
  type CreatePipelineRequest,
  type PipelineSubmission,
  type PipelineTaskData,
} from '../../protocol/index.ts';
import { keyValues, numberFlag, stringFlag, takePositionals } from '../args.ts';
import type { Command, Ctx } from '../context.ts';
import { EXIT, UsageError } from '../exit.ts';
import {
  pipelineDetail,
  pipelineTaskDetail,
  submissionSummary,
  submissionTable,
} from '../format/pipelines.ts';

const TENANT_NOTE = 'Applications belong to tenants: call it with a tenant token, not the admin’s.';
const READ_NOTE =
  'Applications belong to tenants: a tenant token reads its own; the admin names one with --tenant.';
const TENANT_FLAG = {
  type: 'string',
  value: 'ID',
  help: 'the tenant whose pipeline the admin reads (`tm tenants` lists them)',
} as const;

/** Reads and parses a JSON file, or stdin for `-`; unreadable or malformed input is a usage error. */
async function readJson(ctx: Ctx, file: string): Promise<unknown> {
  let text: string;
  try {
    text = file === '-' ? await ctx.readStdin() : await readFile(file, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read ${file}: ${(error as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new UsageError(`${file === '-' ? 'stdin' : file} is not JSON`);
  }
}

export const putPipeline: Command = {
  name: 'pipeline put',
  summary: 'define a pipeline from a JSON file (or - for stdin), or add a version of it',
  usage: 'APP FILE.json|-',
  details:
    'The file is the API’s body: {"name": …, "pipeline": [{"executor": …, "commands": […]}], …}\n' +
    '(see docs/pipelines.md). The application is made on first use.\n' +
    TENANT_NOTE,
  flags: {},
  async run(ctx) {
    const [app, file] = takePositionals(ctx.args, ['APP', 'FILE']);
    const definition = (await readJson(ctx, file!)) as CreatePipelineRequest;
    const view = await ctx.client.putPipeline(app!, definition);
    if (ctx.json) ctx.printJson(view);
    else
      ctx.out(
        `pipeline ${view.application}/${view.name} is at version ${view.version}; it runs on agents with ${view.executors.join(', ')}`,
      );
    return 0;
  },
};

export const showPipeline: Command = {
  name: 'pipeline show',
  summary: 'a pipeline’s definition, its steps and load figures',
  usage: 'APP NAME [--version N] [--tenant ID]',
  details: READ_NOTE,
  flags: {
    version: { type: 'string', value: 'N', help: 'an earlier version (default: latest)' },
    tenant: TENANT_FLAG,
  },
  async run(ctx) {
    const [app, name] = takePositionals(ctx.args, ['APP', 'NAME']);
    const version = numberFlag(ctx.args, 'version', { min: 1 });
    const tenant = stringFlag(ctx.args, 'tenant');
    const view = await ctx.client.getPipeline(app!, name!, version, tenant);
    if (ctx.json) ctx.printJson(view);
    else ctx.out(pipelineDetail(view, ctx.width));
    return 0;
  },
};

/** The data to submit: the batch in --data FILE, else one task from the KEY=VALUE arguments. */
async function submitData(
  ctx: Ctx,
  pairs: readonly string[],
): Promise<PipelineTaskData | PipelineTaskData[]> {
  const file = stringFlag(ctx.args, 'data');
  if (file === undefined) return keyValues(pairs, 'task data');
  if (pairs.length)
    throw new UsageError('give the data as KEY=VALUE arguments or --data, not both');
  const batch = await readJson(ctx, file);
  if (!Array.isArray(batch)) throw new UsageError(`--data ${file}: expected an array of objects`);
  return batch as PipelineTaskData[];
}

/** Exit 1 when a task ended without succeeding; queued or running ones are not failures yet. */
const exitCodeOfSubmission = (submission: PipelineSubmission) =>
  submission.tasks.some((t) => isEndState(t.state) && t.state !== 'succeeded')
    ? EXIT.failed
    : EXIT.ok;

export const submitPipeline: Command = {
  name: 'pipeline submit',
  summary: 'submit a task (KEY=VALUE data) or a batch (--data FILE.json) to a pipeline',
  usage: 'APP NAME [KEY=VALUE]… [--data FILE.json|-] [--wait SECONDS]',
  details:
    'Each KEY=VALUE sets the {{KEY}} of the commands. --data reads an array of such objects:\n' +
    'one task per item, all in one job. With --wait the reply waits up to SECONDS (at most 300)\n' +
    'for the job to end, and the exit code is 1 if a task failed.\n' +
    TENANT_NOTE,
  flags: {
    data: { type: 'string', value: 'FILE', help: 'a JSON array of task data (- for stdin)' },
    wait: { type: 'string', value: 'SECONDS', help: 'wait up to SECONDS for the tasks to end' },
  },
  async run(ctx) {
    const [app, name, ...pairs] = ctx.args.positionals;
    if (app === undefined || name === undefined)
      throw new UsageError(`missing ${app === undefined ? 'APP' : 'NAME'}`);
    const wait = numberFlag(ctx.args, 'wait', { min: 0, max: 300, float: true });
    const data = await submitData(ctx, pairs);
    const submission = await ctx.client.submitPipelineTasks(app, name, data, wait);
    if (ctx.json) ctx.printJson(submission);
    else ctx.out(`${submissionSummary(submission)}\n${submissionTable(submission, ctx.width)}`);
    return exitCodeOfSubmission(submission);
  },
};

export const pipelineTask: Command = {
  name: 'pipeline task',
  summary: 'one task of a pipeline: its steps, their exit codes and output, its result',
  usage: 'APP NAME TASK_ID [--tenant ID]',
  details: READ_NOTE,
  flags: { tenant: TENANT_FLAG },
  async run(ctx) {
    const [app, name, taskId] = takePositionals(ctx.args, ['APP', 'NAME', 'TASK_ID']);
    const tenant = stringFlag(ctx.args, 'tenant');
    const task = await ctx.client.getPipelineTask(app!, name!, taskId!, tenant);
    if (ctx.json) ctx.printJson(task);
    else ctx.out(pipelineTaskDetail(task, ctx.width));
    return 0;
  },
};
