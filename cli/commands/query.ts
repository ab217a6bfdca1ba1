/** `tm query SQL`: an aggregate job written as SQL, followed to its end, its result printed. */
import { numberFlag, takePositionals } from '../args.ts';
import type { Command } from '../context.ts';
import { jobSummary } from '../format/jobs.ts';
import { renderTable } from '../format/table.ts';
import { watchJob } from '../watch.ts';
import { POLICY_FLAGS, policy } from './submit.ts';

export const query: Command = {
  name: 'query',
  summary: 'run SQL over Parquet, CSV or Arrow objects as an aggregate job and print its result',
  usage:
    'SQL [--partitions N] [--name NAME] [--retries N] [--timeout S] [--job-timeout S] [--retention S]',
  details:
    "One SELECT of group keys and count/sum/min/max/avg FROM 's3://bucket-or-store/folder/' (or\n" +
    "read_parquet('…'), read_csv('…'), a '…/*.csv' glob, one object's key), WHERE with AND of\n" +
    'comparisons, IN, BETWEEN, IS [NOT] NULL, GROUP BY, ORDER BY, LIMIT (docs/aggregation.md, "SQL").\n' +
    'e.g. tm query "SELECT region, count(*) FROM \'s3://test-bucket/samples/sales/\' GROUP BY 1"\n' +
    '--json prints the whole result as the JSON page of GET /v1/jobs/:id/result.',
  flags: {
    partitions: { type: 'string', value: 'N', help: 'reduce partitions' },
    ...POLICY_FLAGS,
  },
  async run(ctx) {
    const [sql] = takePositionals(ctx.args, ['SQL']);
    const partitions = numberFlag(ctx.args, 'partitions', { min: 1, max: 256 });
    const job = await ctx.client.submitJob({
      kind: 'aggregate',
      sql: sql!,
      ...(partitions !== undefined ? { partitions } : {}),
      ...policy(ctx),
    });
    const done = await watchJob(ctx, job.id);
    if (done.state !== 'succeeded') {
      if (ctx.json) ctx.printJson(done);
      else ctx.out(jobSummary(done));
      return 1;
    }
    const page = await ctx.client.resultAll(done.id);
    if (ctx.json) ctx.printJson(page);
    else
      ctx.out(
        renderTable(
          page.columns.map((c) => c.name),
          page.rows,
          { maxWidth: ctx.width },
        ),
      );
    return 0;
  },
};
