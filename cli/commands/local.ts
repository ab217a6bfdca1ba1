/** `tm up` and `tm demo` as commands: the local stack, no control plane URL needed. */
import { boolFlag, stringFlag, takePositionals } from '../args.ts';
import { isLogFormat } from '../../protocol/index.ts';
import type { Command } from '../context.ts';
import { up as runUp } from './up.ts';
import { demo as runDemo } from './demo.ts';
import { dataflowDemo } from '../demo/dataflow-demo.ts';
import { UsageError } from '../exit.ts';

export const up: Command = {
  name: 'up',
  summary: 'start the local stack (control plane on :8080, three agents, S3) until Ctrl-C',
  usage: '[--tls] [--log-format text|json]',
  flags: {
    tls: {
      type: 'boolean',
      help: 'serve https and wss, with a certificate signed by a local CA (.tm/tls/ca.pem)',
    },
    'log-format': {
      type: 'string',
      value: 'FORMAT',
      help: 'how the control plane and the agents write their log lines (.tm/logs/): text (default) or json',
    },
  },
  local: true,
  run: async (ctx) => {
    takePositionals(ctx.args, []);
    const logFormat = stringFlag(ctx.args, 'log-format');
    if (logFormat !== undefined && !isLogFormat(logFormat))
      throw new UsageError(`--log-format must be text or json, not ${JSON.stringify(logFormat)}`);
    return runUp({ tls: boolFlag(ctx.args, 'tls'), logFormat });
  },
};

export const demo: Command = {
  name: 'demo',
  summary: 'start the local stack, run a command job and a group-by, show what to try next',
  usage: '[dataflow] [--keep]',
  details:
    '`tm demo dataflow` (npm run demo:dataflow) runs the streaming pipeline of\n' +
    'examples/dataflow/seed/job.toml instead, SIGKILLs an agent mid-run and starts it again, and\n' +
    "prints records/s, latency, restarts and the sink's count and checksum beside the producers'\n" +
    '(exit 1 unless they are equal). It starts its own stack, never uses one already running.',
  flags: { keep: { type: 'boolean', help: 'leave the stack running afterwards' } },
  local: true,
  run: async (ctx) => {
    const [which] = takePositionals(ctx.args, ['dataflow'], 1);
    const args = boolFlag(ctx.args, 'keep') ? ['--keep'] : [];
    if (which === undefined) return runDemo(args);
    if (which === 'dataflow') return dataflowDemo(args);
    throw new UsageError(`unknown demo "${which}": \`tm demo\` or \`tm demo dataflow\``);
  },
};
