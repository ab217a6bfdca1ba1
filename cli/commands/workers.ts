/**
 * `tm workers`, `tm register-worker ADDRESS`, `tm approve-worker ID` (also `tm workers approve ID`),
 * `tm deregister-worker ID`.
 */
import { WorkerState } from '../../protocol/index.ts';
import { boolFlag, keyValues, listFlag, numberFlag, stringFlag, takePositionals } from '../args.ts';
import type { Command, Ctx } from '../context.ts';
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
    if (ctx.json) {
      ctx.printJson({ workers: list });
      return 0;
    }
    ctx.out(list.length ? workersTable(list, ctx.width) : 'no workers');
    // Agents with a key nobody approved wait, connected: say how to let them in.
    for (const w of list.filter((w) => !w.approved && w.keyFingerprint !== null))
      ctx.out(
        `worker ${w.id} (${w.address}) waits for approval, agent key ${w.keyFingerprint}: tm workers approve ${w.id}`,
      );
    return 0;
  },
};

export const registerWorker: Command = {
  name: 'register-worker',
  summary: 'register a worker by its agent address; prints its id and join token (shown once)',
  usage: 'ADDRESS [--fingerprint SHA256:…] [--slots N] [--label KEY=VALUE]…',
  details: `Without --fingerprint the worker's first agent waits as pending until
\`tm workers approve ID\`. With it (\`tm-agent --print-fingerprint --address ADDRESS\` on the
agent's machine prints it) that agent is approved at once and any other key is refused.`,
  flags: {
    fingerprint: {
      type: 'string',
      value: 'SHA256:…',
      help: 'the agent key to approve: tm-agent --print-fingerprint prints it',
    },
    slots: { type: 'string', value: 'N', help: 'concurrent command tasks (default: the agent’s)' },
    label: { type: 'string', multiple: true, value: 'KEY=VALUE', help: 'a label' },
  },
  async run(ctx) {
    const [address] = takePositionals(ctx.args, ['ADDRESS']);
    const slots = numberFlag(ctx.args, 'slots', { min: 1, max: 1024 });
    const labels = keyValues(listFlag(ctx.args, 'label'), '--label');
    const fingerprint = stringFlag(ctx.args, 'fingerprint');
    const reply = await ctx.client.registerWorker({
      address: address!,
      ...(fingerprint !== undefined ? { fingerprint } : {}),
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
        `join token (shown once): ${reply.joinToken}\nput it in a file of mode 0600 on the worker's machine, e.g. /etc/tm/join-token, and start its agent with: tm-agent --control-plane ${ctx.config.url} --token-file /etc/tm/join-token --address ${w.address} (docs/agents.md)`,
      );
    if (!w.approved)
      ctx.out(
        `its first agent waits as pending until: tm workers approve ${w.id} (or register it with --fingerprint)`,
      );
    return 0;
  },
};

/** Approves a pending worker by id. */
async function approve(ctx: Ctx): Promise<number> {
  const [id] = takePositionals(ctx.args, ['ID']);
  const worker = await ctx.client.approveWorker(id!);
  if (ctx.json) ctx.printJson(worker);
  else
    ctx.out(
      `worker ${worker.id} (${worker.address}) approved${worker.keyFingerprint ? `, agent key ${worker.keyFingerprint}` : ''}: ${worker.connected ? 'it takes tasks now' : 'it takes tasks once its agent connects'}`,
    );
  return 0;
}

const APPROVE_DETAILS = `Compare the worker's key (tm workers, GET /v1/workers) with the fingerprint its agent
logged ("waiting for approval") before approving it.`;

export const approveWorker: Command = {
  name: 'approve-worker',
  summary: 'approve a pending worker (a new agent key): it takes tasks from now on',
  usage: 'ID',
  details: APPROVE_DETAILS,
  flags: {},
  run: approve,
};

/** `tm workers approve ID`, as the agent's log and `tm workers` say it. */
export const workersApprove: Command = {
  name: 'workers approve',
  summary: 'the same as approve-worker',
  usage: 'ID',
  details: APPROVE_DETAILS,
  flags: {},
  run: approve,
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
