/** `tm jobs`, `tm job ID [--wait]`, `tm cancel ID`. */
import { JOB_KINDS, JobState } from '../../protocol/index.ts';
import { boolFlag, numberFlag, stringFlag, takePositionals } from '../args.ts';
import type { Command } from '../context.ts';
import { UsageError } from '../exit.ts';
import { jobDetail, jobsTable } from '../format/jobs.ts';
import { watchJob } from '../watch.ts';

export const jobs: Command = {
  name: 'jobs',
  summary: 'list jobs, newest first',
  usage:
    '[--state STATE] [--kind KIND] [--tenant ID] [--since TIME] [--until TIME] [--limit N] [--cursor C]',
  details:
    'A page holds --limit jobs (100; 1000 at most) or 4 MiB of JSON, whichever comes first; the\n' +
    'line after it says how to read the next. --json prints the page ({"jobs", "next"}).\n' +
    'TIME is ISO 8601 (2026-12-07T09:00:00Z): --since inclusive, --until exclusive.',
  flags: {
    state: { type: 'string', value: 'STATE', help: 'only jobs in this state' },
    kind: {
      type: 'string',
      value: 'KIND',
      help: `only jobs of this kind (${JOB_KINDS.join(', ')})`,
    },
    tenant: { type: 'string', value: 'ID', help: "only this tenant's jobs (the admin's filter)" },
    since: { type: 'string', value: 'TIME', help: 'only jobs created at or after TIME' },
    until: { type: 'string', value: 'TIME', help: 'only jobs created before TIME' },
    limit: { type: 'string', value: 'N', help: 'at most N jobs' },
    cursor: { type: 'string', value: 'C', help: 'the page after the one that printed C' },
  },
  async run(ctx) {
    takePositionals(ctx.args, []);
    const state = stringFlag(ctx.args, 'state');
    if (state !== undefined && !JobState.safeParse(state).success)
      throw new UsageError(`--state must be one of ${JobState.options.join(', ')}`);
    const kind = stringFlag(ctx.args, 'kind');
    if (kind !== undefined && !isJobKind(kind))
      throw new UsageError(`--kind must be one of ${JOB_KINDS.join(', ')}`);
    const filters = {
      state: state as JobState | undefined,
      kind,
      tenant: stringFlag(ctx.args, 'tenant'),
      since: stringFlag(ctx.args, 'since'),
      until: stringFlag(ctx.args, 'until'),
    };
    const limit = numberFlag(ctx.args, 'limit', { min: 1, max: 1000 });
    const cursor = stringFlag(ctx.args, 'cursor');
    const page = await ctx.client.jobsPage({ ...filters, limit, cursor });
    if (ctx.json) {
      ctx.printJson(page);
      return 0;
    }
    ctx.out(page.jobs.length ? jobsTable(page.jobs, ctx.width) : 'no jobs');
    const again = ['tm jobs'];
    for (const [flag, value] of Object.entries({ ...filters, limit }))
      if (value !== undefined) again.push(`--${flag} ${value}`);
    if (page.next !== null) ctx.out(`more: ${again.join(' ')} --cursor ${page.next}`);
    return 0;
  },
};

function isJobKind(kind: string): kind is (typeof JOB_KINDS)[number] {
  return (JOB_KINDS as readonly string[]).includes(kind);
}

export const job: Command = {
  name: 'job',
  summary: 'show a job: state, counts, attempts, progress, timings and its first 1000 tasks',
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
    if (!ctx.json && view.tasksNext)
      ctx.out(`more tasks: tm tasks --job ${view.id} --cursor ${view.tasksNext}`);
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
