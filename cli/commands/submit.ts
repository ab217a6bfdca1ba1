/**
 * `tm submit command -- …` and `tm submit aggregate …`: submit a job, and with --wait see it
 * through (`tm submit-job` submits through here too).
 */
import type { FlagSpec, FlagSpecs } from '../args.ts';
import { boolFlag, keyValues, listFlag, numberFlag, stringFlag, takePositionals } from '../args.ts';
import type { Command, Ctx } from '../context.ts';
import { UsageError } from '../exit.ts';
import { InputFormat, type JobView, type SubmitJobRequest } from '../../protocol/index.ts';
import { parseAgg, parseFilter, parseGroupBy, parseOrderBy } from '../query.ts';
import { watchJob } from '../watch.ts';
import { jobSummary, tasksTable } from '../format/jobs.ts';
import { renderTable } from '../format/table.ts';
import { drawDag } from '../format/dag.ts';

export const WAIT_FLAG: FlagSpec = {
  type: 'boolean',
  help: 'wait for the job to end, with a progress bar on a terminal',
};

/** The flags of a job's name and fault policy, which every submitting command takes. */
export const POLICY_FLAGS: FlagSpecs = {
  name: { type: 'string', value: 'NAME', help: 'a name for the job' },
  retries: { type: 'string', value: 'N', help: 'times a failed task runs again' },
  timeout: { type: 'string', value: 'SECONDS', help: 'limit on each attempt of each task' },
  'job-timeout': { type: 'string', value: 'SECONDS', help: 'limit on the whole job' },
  retention: {
    type: 'string',
    value: 'SECONDS',
    help: "keep the ended job this long, at most the cluster's retention",
  },
};

const COMMON: FlagSpecs = { ...POLICY_FLAGS, wait: WAIT_FLAG };

/** The job fields POLICY_FLAGS give. */
export function policy(ctx: Ctx) {
  const retries = numberFlag(ctx.args, 'retries', { min: 0, max: 100 });
  const timeoutSeconds = numberFlag(ctx.args, 'timeout', { min: 0.001, float: true });
  const jobTimeoutSeconds = numberFlag(ctx.args, 'job-timeout', { min: 0.001, float: true });
  const retentionSeconds = numberFlag(ctx.args, 'retention', { min: 0.001, float: true });
  const name = stringFlag(ctx.args, 'name');
  return {
    ...(name ? { name } : {}),
    ...(retries !== undefined ? { retries } : {}),
    ...(timeoutSeconds !== undefined ? { timeoutSeconds } : {}),
    ...(jobTimeoutSeconds !== undefined ? { jobTimeoutSeconds } : {}),
    ...(retentionSeconds !== undefined ? { retentionSeconds } : {}),
  };
}

export const submitCommand: Command = {
  name: 'submit command',
  summary: 'run a command on one, N or all workers',
  usage:
    '[--workers N|all] [--retries N] [--timeout S] [--env K=V]… [--path DIR] [--wait] -- COMMAND [ARG…]',
  details:
    'Several words after -- run as an argv without a shell; a single word runs with `sh -c`\n' +
    "(so `-- 'seq 3 | wc -l'` uses a pipe). The command runs in the agent's work dir.",
  flags: {
    workers: { type: 'string', value: 'N|all', help: 'one task on each of N workers, or all' },
    env: { type: 'string', multiple: true, value: 'KEY=VALUE', help: 'an environment variable' },
    path: { type: 'string', value: 'DIR', help: 'working dir inside the agent work dir' },
    ...COMMON,
  },
  async run(ctx) {
    takePositionals(ctx.args, []);
    const rest = ctx.args.rest ?? [];
    if (rest.length === 0)
      throw new UsageError('give the command after --, e.g. tm submit command -- echo hello');
    const workersText = stringFlag(ctx.args, 'workers');
    const workers =
      workersText === undefined || workersText === 'all'
        ? workersText
        : numberFlag(ctx.args, 'workers', { min: 1 });
    const env = keyValues(listFlag(ctx.args, 'env'), '--env');
    const path = stringFlag(ctx.args, 'path');
    const request: SubmitJobRequest = {
      kind: 'command',
      command: rest.length === 1 ? rest[0]! : rest,
      ...(workers !== undefined ? { workers: workers as 'all' | number } : {}),
      ...(Object.keys(env).length ? { env } : {}),
      ...(path ? { path } : {}),
      ...policy(ctx),
    };
    return submit(ctx, request);
  },
};

export const submitAggregate: Command = {
  name: 'submit aggregate',
  summary: 'a distributed group-by over objects in a store',
  usage:
    "--store NAME (--prefix P | --object KEY…) --format parquet|arrow|csv [--group-by COL[,COL]] --agg 'sum(x)' [--agg 'count(*)']… [--filter 'col>=5']… [--order-by 'col desc'] [--limit N] [--wait]",
  details:
    '--agg: count(*), count(col), count(distinct col), sum, min, max, avg (col); add `as NAME`.\n' +
    "--filter: col = v, != < <= > >=, col in (a, b), col is [not] null; strings may be quoted 'x'.\n" +
    '--order-by: an output column, `desc` or a leading - for descending; commas for several.',
  flags: {
    store: { type: 'string', value: 'NAME', help: 'the object store to read' },
    prefix: { type: 'string', value: 'PREFIX', help: 'read every object under this key prefix' },
    object: { type: 'string', multiple: true, value: 'KEY', help: 'read this object' },
    format: { type: 'string', value: 'FORMAT', help: 'parquet, arrow or csv' },
    'group-by': { type: 'string', multiple: true, value: 'COLS', help: 'group by these columns' },
    agg: { type: 'string', multiple: true, value: 'EXPR', help: 'an aggregate, e.g. sum(price)' },
    filter: { type: 'string', multiple: true, value: 'EXPR', help: 'keep rows where EXPR holds' },
    'order-by': { type: 'string', multiple: true, value: 'COLS', help: 'order the result' },
    limit: { type: 'string', value: 'N', help: 'keep the first N result rows' },
    partitions: { type: 'string', value: 'N', help: 'reduce partitions' },
    ...COMMON,
  },
  async run(ctx) {
    takePositionals(ctx.args, []);
    const store = stringFlag(ctx.args, 'store');
    if (!store) throw new UsageError('--store is required');
    const format = stringFlag(ctx.args, 'format');
    if (!format || !InputFormat.safeParse(format).success)
      throw new UsageError(`--format must be one of ${InputFormat.options.join(', ')}`);
    const prefix = stringFlag(ctx.args, 'prefix');
    const objects = listFlag(ctx.args, 'object');
    if (prefix !== undefined && objects.length)
      throw new UsageError('give --prefix or --object, not both');
    const aggs = listFlag(ctx.args, 'agg');
    if (aggs.length === 0) throw new UsageError("give at least one --agg, e.g. --agg 'count(*)'");
    const groupBy = parseGroupBy(listFlag(ctx.args, 'group-by'));
    const filter = listFlag(ctx.args, 'filter').map(parseFilter);
    const orderBy = listFlag(ctx.args, 'order-by').flatMap(parseOrderBy);
    const limit = numberFlag(ctx.args, 'limit', { min: 1, max: 1_000_000 });
    const partitions = numberFlag(ctx.args, 'partitions', { min: 1, max: 256 });
    const request: SubmitJobRequest = {
      kind: 'aggregate',
      source: {
        store,
        format: format as InputFormat,
        ...(objects.length ? { paths: objects } : { prefix: prefix ?? '' }),
      },
      ...(filter.length ? { filter } : {}),
      ...(groupBy.length ? { groupBy } : {}),
      aggregates: aggs.map(parseAgg),
      ...(orderBy.length ? { orderBy } : {}),
      ...(limit !== undefined ? { limit } : {}),
      ...(partitions !== undefined ? { partitions } : {}),
      ...policy(ctx),
    };
    return submit(ctx, request);
  },
};

const SHOWN_ROWS = 100;

/** Submits the job and prints its id; with --wait follows it to its end and shows how it went. */
export async function submit(ctx: Ctx, request: SubmitJobRequest): Promise<number> {
  const job = await ctx.client.submitJob(request);
  if (!boolFlag(ctx.args, 'wait')) {
    if (ctx.json) ctx.printJson(job);
    else
      ctx.out(
        `submitted job ${job.id} (${job.kind}, ${job.state})\nfollow it with: tm job ${job.id} --wait`,
      );
    return 0;
  }
  if (!ctx.json) ctx.out(`submitted job ${job.id} (${job.kind})`);
  const done = await watchJob(ctx, job.id);
  if (ctx.json) ctx.printJson(done);
  else await showOutcome(ctx, done);
  return done.state === 'succeeded' ? 0 : 1;
}

async function showOutcome(ctx: Ctx, job: JobView): Promise<void> {
  ctx.out(jobSummary(job));
  if (job.kind === 'aggregate' && job.state === 'succeeded') {
    const page = await ctx.client.result(job.id, 0, SHOWN_ROWS);
    ctx.out(
      '\n' +
        renderTable(
          page.columns.map((c) => c.name),
          page.rows,
          { maxWidth: ctx.width },
        ),
    );
    if (page.total > page.rows.length)
      ctx.out(`… ${page.total - page.rows.length} more rows: tm result ${job.id}`);
  } else if (job.stages?.length) {
    ctx.out('\n' + drawDag(job.stages, { width: ctx.width }));
    ctx.out(`\noutput: tm logs ${job.id} [--stage NAME [--instance N]]`);
  } else if (job.kind !== 'aggregate' && job.tasks?.length) {
    ctx.out('\n' + tasksTable(job.tasks, ctx.width));
    ctx.out(`\noutput: tm logs ${job.id}`);
  }
}
