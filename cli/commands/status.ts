/**
 * `tm status`: the cluster at a glance, a section per part: workers (state, heartbeat, slots in
 * use, labels), the queue by tenant and pipeline, running jobs, and storage. A tenant's token sees
 * its own running jobs; the other sections need the admin's, and say so.
 */
import { takePositionals } from '../args.ts';
import type { Command } from '../context.ts';
import { TmApiError } from '../sdk/errors.ts';
import {
  queueSection,
  RUNNING_SHOWN,
  runningSection,
  storageSection,
  workersSection,
} from '../format/status.ts';

/** An admin-only report, or null when the token is a tenant's (403). */
const adminOnly = <T>(report: Promise<T>): Promise<T | null> =>
  report.catch((error: unknown) => {
    if (error instanceof TmApiError && error.status === 403) return null;
    throw error;
  });

export const status: Command = {
  name: 'status',
  summary: 'the cluster at a glance: workers, queue, running jobs and storage',
  usage: '',
  details:
    "Workers, the queue and storage need the admin's token; a tenant's sees its running jobs.",
  flags: {},
  async run(ctx) {
    takePositionals(ctx.args, []);
    const [workers, queue, storage, running] = await Promise.all([
      adminOnly(ctx.client.listWorkers()),
      adminOnly(ctx.client.queue()),
      adminOnly(ctx.client.storage()),
      ctx.client.listJobs('running', RUNNING_SHOWN),
    ]);
    if (ctx.json) {
      ctx.printJson({ workers, queue, runningJobs: running, storage });
      return 0;
    }
    const sections = [
      workers ? workersSection(workers, ctx.width) : null,
      queue ? queueSection(queue, ctx.width) : null,
      runningSection(running, ctx.width),
      storage ? storageSection(storage, ctx.width) : null,
    ];
    if (!workers) sections.push("(workers, queue and storage need the admin's token)");
    ctx.out(sections.filter((section) => section !== null).join('\n\n'));
    return 0;
  },
};
