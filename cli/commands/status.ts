/**
 * `tm status`: the cluster at a glance, a section per part. Today its storage (admin token); each
 * section asks for its own report, so workers, the queue or running jobs can join as sections.
 */
import { takePositionals } from '../args.ts';
import type { Command } from '../context.ts';
import { storageSection } from '../format/status.ts';

export const status: Command = {
  name: 'status',
  summary: "the cluster's state: storage (database size, rows per table, retention); admin token",
  usage: '',
  flags: {},
  async run(ctx) {
    takePositionals(ctx.args, []);
    const storage = await ctx.client.storage();
    if (ctx.json) ctx.printJson({ storage });
    else ctx.out(storageSection(storage, ctx.width));
    return 0;
  },
};
