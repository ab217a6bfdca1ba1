/** `tm jobs`, `tm job ID [--wait]`, `tm cancel ID`. */
import { JobState } from '../../protocol/index.ts';
import { boolFlag, numberFlag, stringFlag, takePositionals } from '../args.ts';
import type { Command } from '../context.ts';
import { UsageError } from '../exit.ts';
import { jobDetail, jobsTable } from '../format/jobs.ts';
import { watchJob } from '../watch.ts';

export const jobs: Command = {
  name: 'jobs',
  summary: 'list jobs, newest first',
  usage: '[--state queued|running|succeeded|failed|cancelled] [--limit N]',
  flags: {
    state: { type: 'string', value: 'STATE', help: 'only jobs in this state' },
    limit: { type: 'string', value: 'N', help: 'at most N jobs' },
  },
  async run(ctx) {
    takePositionals(ctx.args, []);
    const state = stringFlag(ctx.args, 'state');
    if (state !== undefined && !JobState.safeParse(state).success)
      throw new UsageError(`--state must be one of ${JobState.options.join(', ')}`);
    const limit = numberFlag(ctx.args, 'limit', { min: 1, max: 1000 });
    const list = await ctx.client.listJobs(state as JobState | undefined, limit);
    if (ctx.json) ctx.printJson({ jobs: list });
    else ctx.out(list.length ? jobsTable(list, ctx.width) : 'no jobs');
    return 0;
  },
};

export const job: Command = {
  name: 'job',
  summary: 'show a job: state, counts, attempts, progress, timings and tasks',
  usage: 'ID [--wait]',
  details: 'With --wait: exits 0 when the job succeeds, 1 when it fails or is cancelled.',
  flags: {
    wait: { type: 'boolean', help: 'wait for the job to end, with a progress bar on a terminal' },
  },
  async run(ctx) {
    const [id] = takePositionals(ctx.args, ['ID']);
    const view = boolFlag(ctx.args, 'wait')
      ? await watchJob(ctx, id!)
      : await ctx.client.getJob(id!);
    if (ctx.json) ctx.printJson(view);
    else ctx.out(jobDetail(view, ctx.width));
    if (!boolFlag(ctx.args, 'wait')) return 0;
    return view.state === 'succeeded' ? 0 : 1;
  },
};

export const cancel: Command = {
  name: 'cancel',
  summary: 'cancel a job: its running tasks are stopped (exits 1 if it had already ended)',
  usage: 'ID',
  flags: {},
  async run(ctx) {
    const [id] = takePositionals(ctx.args, ['ID']);
    const view = await ctx.client.cancelJob(id!);
    if (ctx.json) ctx.printJson(view);
    else ctx.out(`job ${view.id} ${view.state}`);
    return 0;
  },
};
