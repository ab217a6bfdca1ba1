/** `tm submit-job --config FILE [--wait]`: submit the dataflow job a TOML, YAML or JSON file holds. */
import { stringFlag, takePositionals } from '../args.ts';
import type { Command } from '../context.ts';
import { UsageError } from '../exit.ts';
import { readJobFile } from '../job-file/job-file.ts';
import { submit, WAIT_FLAG } from './submit.ts';

export const submitJob: Command = {
  name: 'submit-job',
  summary: 'submit a dataflow job (a DAG of stages) from a TOML, YAML or JSON job file',
  usage: '--config FILE [--wait]',
  details:
    "The file holds the fields of the API's dataflow job: name, retries, timeoutSeconds … at the\n" +
    'top, then each stage as a [[stages]] table (name, kind "command" or "echo", command,\n' +
    'parallelism, dependsOn …); kind = "dataflow" may be left out. The extension says the format:\n' +
    '.yaml or .yml, .json, else TOML. A bad file exits 2, each problem named by line and key:\n' +
    '  job.toml:12: stages[1].command: missing (expected string or array)\n' +
    'It prints the job id; with --wait it follows the job and draws its stages with their final\n' +
    'states, exiting 0 when it succeeds and 1 when it fails or is cancelled. See docs/dataflow.md.',
  flags: {
    config: { type: 'string', value: 'FILE', help: 'the job file: .toml, .yaml, .yml or .json' },
    wait: WAIT_FLAG,
  },
  async run(ctx) {
    takePositionals(ctx.args, []);
    const file = stringFlag(ctx.args, 'config');
    if (!file) throw new UsageError('give the job file: tm submit-job --config FILE');
    return submit(ctx, await readJobFile(file));
  },
};
