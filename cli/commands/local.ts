/** `tm up` and `tm demo` as commands: the local stack, no control plane URL needed. */
import { boolFlag, takePositionals } from '../args.ts';
import type { Command } from '../context.ts';
import { up as runUp } from './up.ts';
import { demo as runDemo } from './demo.ts';

export const up: Command = {
  name: 'up',
  summary: 'start the local stack (control plane on :8080, three agents, S3) until Ctrl-C',
  usage: '[--tls]',
  flags: {
    tls: {
      type: 'boolean',
      help: 'serve https and wss, with a certificate signed by a local CA (.tm/tls/ca.pem)',
    },
  },
  local: true,
  run: async (ctx) => {
    takePositionals(ctx.args, []);
    return runUp({ tls: boolFlag(ctx.args, 'tls') });
  },
};

export const demo: Command = {
  name: 'demo',
  summary: 'start the local stack, run a command job and a group-by, show what to try next',
  usage: '[--keep]',
  flags: { keep: { type: 'boolean', help: 'leave the stack running afterwards' } },
  local: true,
  run: async (ctx) => {
    takePositionals(ctx.args, []);
    return runDemo(boolFlag(ctx.args, 'keep') ? ['--keep'] : []);
  },
};
