/** `tm logs ID [--task] [--follow]`: a job's (or task's) output; stderr entries go to stderr. */
import type { LogEntry } from '../../protocol/index.ts';
import { boolFlag, takePositionals } from '../args.ts';
import type { Command, Ctx } from '../context.ts';
import type { LogScope } from '../sdk/client.ts';

export const logs: Command = {
  name: 'logs',
  summary: "print a job's output (or a task's, with --task); --follow streams it until the end",
  usage: 'ID [--task] [--follow]',
  details:
    'stdout entries go to stdout, stderr and system entries to stderr. With --follow the exit\n' +
    'code is 1 if the job (task) failed or was cancelled. --json prints the entries as NDJSON.',
  flags: {
    task: { type: 'boolean', help: 'ID is a task id' },
    follow: { type: 'boolean', short: 'f', help: 'stream new output until the job (task) ends' },
  },
  async run(ctx) {
    const [id] = takePositionals(ctx.args, ['ID']);
    const scope: LogScope = boolFlag(ctx.args, 'task') ? { taskId: id! } : { jobId: id! };
    if (boolFlag(ctx.args, 'follow')) {
      for await (const event of ctx.client.followLogs(scope)) {
        if (ctx.json) ctx.out(JSON.stringify(event));
        if ('end' in event) return ['failed', 'cancelled'].includes(event.state) ? 1 : 0;
        if (!ctx.json) print(ctx, event);
      }
      return 0;
    }
    let after = 0;
    for (;;) {
      const page = await ctx.client.logs(scope, after);
      for (const entry of page.entries) {
        if (ctx.json) ctx.out(JSON.stringify(entry));
        else print(ctx, entry);
      }
      if (page.next === null || page.entries.length === 0) return 0;
      after = page.next;
    }
  },
};

function print(ctx: Ctx, entry: LogEntry): void {
  if (entry.stream === 'stdout') ctx.stdout.write(entry.data);
  else if (entry.stream === 'stderr') ctx.stderr.write(entry.data);
  else ctx.stderr.write(`[tm] ${entry.data.replace(/\n?$/, '\n')}`);
}
