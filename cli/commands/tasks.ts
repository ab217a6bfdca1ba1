/**
 * `tm tasks [--job ID | --worker ID]`: tasks a page at a time; `tm task ID [--result]`: one task
 * with its attempts' history, or its whole result.
 */
import { TaskState, type TaskPage } from '../../protocol/index.ts';
import { boolFlag, numberFlag, stringFlag, takePositionals } from '../args.ts';
import type { Command, Ctx } from '../context.ts';
import { UsageError } from '../exit.ts';
import { attemptsTable, tasksTable } from '../format/jobs.ts';

export const tasks: Command = {
  name: 'tasks',
  summary: "list tasks, newest first (a job's by index with --job), a page at a time",
  usage: '[--job ID | --worker ID] [--state STATE] [--limit N] [--cursor C | --all]',
  details:
    'A page holds --limit tasks (1000 at most) or 4 MiB of JSON, whichever comes first; the\n' +
    'line after it says how to read the next (--cursor), and --all reads every page.\n' +
    '--json prints a page as the API sends it ({"tasks", "next"}); with --all, one task a line.',
  flags: {
    job: { type: 'string', value: 'ID', help: "only this job's tasks, by index" },
    worker: {
      type: 'string',
      value: 'ID',
      help: "only tasks whose current (or last) attempt is this worker's",
    },
    state: { type: 'string', value: 'STATE', help: 'only tasks in this state' },
    limit: { type: 'string', value: 'N', help: 'at most N tasks a page (1000)' },
    cursor: { type: 'string', value: 'C', help: 'the page after the one that printed C' },
    all: { type: 'boolean', help: 'every page' },
  },
  async run(ctx) {
    takePositionals(ctx.args, []);
    const state = stringFlag(ctx.args, 'state');
    if (state !== undefined && !TaskState.safeParse(state).success)
      throw new UsageError(`--state must be one of ${TaskState.options.join(', ')}`);
    const jobId = stringFlag(ctx.args, 'job');
    const worker = stringFlag(ctx.args, 'worker');
    if (jobId !== undefined && worker !== undefined)
      throw new UsageError("give --job (a job's tasks) or --worker (across jobs), not both");
    const query = {
      state: state as TaskState | undefined,
      limit: numberFlag(ctx.args, 'limit', { min: 1, max: 1000 }),
    };
    const across = { ...query, ...(worker !== undefined ? { worker } : {}) };
    const cursor = stringFlag(ctx.args, 'cursor');
    if (boolFlag(ctx.args, 'all')) {
      if (cursor !== undefined) throw new UsageError('give --cursor or --all, not both');
      const all = jobId ? ctx.client.jobTasks(jobId, query) : ctx.client.tasks(across);
      const shown = [];
      for await (const task of all) {
        if (ctx.json) ctx.out(JSON.stringify(task));
        else shown.push(task);
      }
      if (!ctx.json) ctx.out(shown.length ? tasksTable(shown, ctx.width) : 'no tasks');
      return 0;
    }
    const page = jobId
      ? await ctx.client.jobTasksPage(jobId, { ...query, cursor })
      : await ctx.client.tasksPage({ ...across, cursor });
    if (ctx.json) ctx.printJson(page);
    else printPage(ctx, page);
    return 0;
  },
};

function printPage(ctx: Ctx, page: TaskPage): void {
  ctx.out(page.tasks.length ? tasksTable(page.tasks, ctx.width) : 'no tasks');
  if (page.next === null) return;
  const argv = ctx.args.flags;
  const again = ['tm tasks', ...(typeof argv.job === 'string' ? [`--job ${argv.job}`] : [])];
  if (typeof argv.worker === 'string') again.push(`--worker ${argv.worker}`);
  if (typeof argv.state === 'string') again.push(`--state ${argv.state}`);
  if (typeof argv.limit === 'string') again.push(`--limit ${argv.limit}`);
  ctx.out(`more: ${again.join(' ')} --cursor ${page.next}`);
}

export const task: Command = {
  name: 'task',
  summary: "show a task and its attempts' history; --result prints its whole result as JSON",
  usage: 'ID [--result]',
  details:
    'Views show a result of up to 64 KiB; a larger one is shown by its size, and --result reads it.',
  flags: {
    result: { type: 'boolean', help: "print the task's whole stored result (JSON)" },
  },
  async run(ctx) {
    const [id] = takePositionals(ctx.args, ['ID']);
    if (boolFlag(ctx.args, 'result')) {
      const { result } = await ctx.client.getTaskResult(id!);
      ctx.out(JSON.stringify(result, null, ctx.json ? undefined : 2));
      return 0;
    }
    const view = await ctx.client.getTask(id!);
    if (ctx.json) ctx.printJson(view);
    else {
      ctx.out(tasksTable([view], ctx.width));
      const history = view.history ?? [];
      if (history.length > 0) ctx.out(`\nattempts:\n${attemptsTable(history, ctx.width)}\n`);
      ctx.out(
        view.resultOmitted
          ? `result: ${view.resultBytes} bytes, larger than a view shows: tm task ${view.id} --result`
          : `result: ${JSON.stringify(view.result)}`,
      );
    }
    return 0;
  },
};
