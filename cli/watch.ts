/** Waiting for a job to end, with a progress bar on a terminal; shared by `submit --wait` and `job --wait`. */
import type { JobView } from '../protocol/index.ts';
import type { Ctx } from './context.ts';
import { ProgressBar } from './progress.ts';
import { isEndState } from '../protocol/index.ts';

export async function watchJob(ctx: Ctx, id: string, pollMs = 250): Promise<JobView> {
  const bar = new ProgressBar(ctx.json ? { write: () => undefined } : ctx.stdout);
  try {
    for (;;) {
      const job = await ctx.client.getJob(id, 0);
      bar.update(job);
      if (isEndState(job.state)) break;
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
  } finally {
    bar.finish();
  }
  return ctx.client.getJob(id);
}
