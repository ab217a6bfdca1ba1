/** `tm logs ID [--task | --stage NAME [--instance N]] [--follow]`: a job's, task's or stage's output. */
import { boolFlag, numberFlag, stringFlag, takePositionals } from '../args.ts';
import type { Command } from '../context.ts';
import { UsageError } from '../exit.ts';
import { followLogs, printLogs } from '../log-output.ts';
import type { LogScope } from '../sdk/client.ts';
import { stageLogs } from '../stage-logs.ts';

export const logs: Command = {
  name: 'logs',
  summary:
    "print a job's output (a task's with --task, a dataflow stage's with --stage); --follow streams it until the end",
  usage: 'ID [--task | --stage NAME [--instance N]] [--follow]',
  details:
    'stdout entries go to stdout, stderr and system entries to stderr. With --follow the exit\n' +
    'code is 1 if the job (task, stage) failed or was cancelled. --json prints the entries as NDJSON.\n' +
    "--stage prints each of the stage's instances in turn; with --follow, each as it starts.",
  flags: {
    task: { type: 'boolean', help: 'ID is a task id' },
    stage: { type: 'string', value: 'NAME', help: "a dataflow job's stage: its tasks' output" },
    instance: { type: 'string', value: 'N', help: 'with --stage: only instance N (from 0)' },
    follow: { type: 'boolean', short: 'f', help: 'stream new output until the job (task) ends' },
  },
  async run(ctx) {
    const [id] = takePositionals(ctx.args, ['ID']);
    const follow = boolFlag(ctx.args, 'follow');
    const stage = stringFlag(ctx.args, 'stage');
    const instance = numberFlag(ctx.args, 'instance', { min: 0 });
    if (instance !== undefined && stage === undefined)
      throw new UsageError('--instance goes with --stage NAME');
    if (stage !== undefined) {
      if (boolFlag(ctx.args, 'task')) throw new UsageError('give --task or --stage, not both');
      return stageLogs(ctx, { jobId: id!, stage, instance }, follow);
    }
    const scope: LogScope = boolFlag(ctx.args, 'task') ? { taskId: id! } : { jobId: id! };
    if (!follow) {
      await printLogs(ctx, scope);
      return 0;
    }
    const state = await followLogs(ctx, scope);
    return state === 'failed' || state === 'cancelled' ? 1 : 0;
  },
};
