/** `tm workers`, `tm register-worker ADDRESS`, `tm deregister-worker ID`. */
import { WorkerState } from '../../protocol/index.ts';
import { boolFlag, keyValues, listFlag, numberFlag, stringFlag, takePositionals } from '../args.ts';
import type { Command } from '../context.ts';
import { UsageError } from '../exit.ts';
import { workersTable } from '../format/jobs.ts';

export const workers: Command = {
  name: 'workers',
  summary: 'list workers with state, connection, heartbeat and running tasks',
  usage: '[--state pending|ready|draining|lost|gone]',
  flags: { state: { type: 'string', value: 'STATE', help: 'only workers in this state' } },
  async run(ctx) {
    takePositionals(ctx.args, []);
    const state = stringFlag(ctx.args, 'state');
    if (state !== undefined && !WorkerState.safeParse(state).success)
      throw new UsageError(`--state must be one of ${WorkerState.options.join(', ')}`);
    const list = await ctx.client.listWorkers(state as WorkerState | undefined);
    if (ctx.json) ctx.printJson({ workers: list });
    else ctx.out(list.length ? workersTable(list, ctx.width) : 'no workers');
    return 0;
  },
};

export const registerWorker: Command = {
  name: 'register-worker',
  summary: 'register a worker by its agent address; prints its id and join token (shown once)',
  usage: 'ADDRESS [--slots N] [--label KEY=VALUE]…',
  flags: {
    slots: { type: 'string', value: 'N', help: 'concurrent command tasks (default: the agent’s)' },
    label: { type: 'string', multiple: true, value: 'KEY=VALUE', help: 'a label' },
  },
  async run(ctx) {
    const [address] = takePositionals(ctx.args, ['ADDRESS']);
    const slots = numberFlag(ctx.args, 'slots', { min: 1, max: 1024 });
    const labels = keyValues(listFlag(ctx.args, 'label'), '--label');
    const reply = await ctx.client.registerWorker({
      address: address!,
      ...(slots ? { slots } : {}),
      ...(Object.keys(labels).length ? { labels } : {}),
    });
    if (ctx.json) {
      ctx.printJson(reply);
      return 0;
    }
    const w = reply.worker;
    ctx.out(
      reply.created
        ? `registered worker ${w.id} at ${w.address}`
        : `worker ${w.id} at ${w.address} was already registered (${w.state})`,
    );
    if (reply.joinToken)
      ctx.out(
        `join token (shown once): ${reply.joinToken}\nstart its agent with: npx tm-agent --control-plane ${ctx.config.url} --token <join token> --address ${w.address}`,
      );
    return 0;
  },
};

export const deregisterWorker: Command = {
  name: 'deregister-worker',
  summary: 'drain a worker and remove it; --force requeues its tasks and removes it at once',
  usage: 'ID [--force]',
  flags: { force: { type: 'boolean', help: 'do not wait for running tasks: requeue them now' } },
  async run(ctx) {
    const [id] = takePositionals(ctx.args, ['ID']);
    const worker = await ctx.client.deregisterWorker(id!, boolFlag(ctx.args, 'force'));
    if (ctx.json) ctx.printJson(worker);
    else
      ctx.out(
        worker.state === 'draining'
          ? `worker ${worker.id} (${worker.address}) is draining: it takes no new tasks and goes when its running ones finish`
          : `worker ${worker.id} (${worker.address}) removed`,
      );
    return 0;
  },
};
