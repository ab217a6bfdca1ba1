/**
 * `tm logs JOB --stage NAME [--instance N]`: the output of a dataflow stage's tasks (one instance's
 * with --instance), found by their `stage`; with --follow each is streamed as it starts, since a
 * stage's tasks are made only when its upstreams have ended.
 */
import { isEndState, type StageView } from '../protocol/index.ts';
import type { Ctx } from './context.ts';
import { UsageError } from './exit.ts';
import { followLogs, printLogs } from './log-output.ts';

/** How often a followed stage that has not started yet is looked at again. */
const POLL_MS = 500;

export interface StageSelector {
  jobId: string;
  stage: string;
  instance?: number | undefined;
}

/** Prints (or follows) the selected output; the exit code: 1 if a task or the stage failed when followed. */
export async function stageLogs(ctx: Ctx, at: StageSelector, follow: boolean): Promise<number> {
  const stage = await findStage(ctx, at);
  if (!follow) {
    for await (const task of ctx.client.stageTasks(at.jobId, at.stage, at.instance))
      await printLogs(ctx, { taskId: task.id });
    return 0;
  }
  const wanted = at.instance === undefined ? stage.parallelism : 1;
  const followed = new Set<string>();
  const ends: Promise<string | undefined>[] = [];
  for (let view = stage; ; view = await findStage(ctx, at)) {
    for await (const task of ctx.client.stageTasks(at.jobId, at.stage, at.instance))
      if (!followed.has(task.id)) {
        followed.add(task.id);
        ends.push(followLogs(ctx, { taskId: task.id }));
      }
    if (followed.size >= wanted || isEndState(view.state)) break;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  const states = await Promise.all(ends);
  const last = await findStage(ctx, at);
  const failed = (state: string | undefined) => state === 'failed' || state === 'cancelled';
  return states.some(failed) || (at.instance === undefined && failed(last.state)) ? 1 : 0;
}

/** The stage's view in its job; a usage error naming the job's stages when it has no such one. */
async function findStage(ctx: Ctx, at: StageSelector): Promise<StageView> {
  const job = await ctx.client.getJob(at.jobId, 0);
  if (!job.stages) throw new UsageError(`job ${at.jobId} is a ${job.kind} job: it has no stages`);
  const stage = job.stages.find((s) => s.name === at.stage);
  if (!stage)
    throw new UsageError(
      `job ${at.jobId} has no stage "${at.stage}"; its stages: ${job.stages.map((s) => s.name).join(', ')}`,
    );
  if (at.instance !== undefined && at.instance >= stage.parallelism)
    throw new UsageError(
      `stage "${at.stage}" has ${stage.parallelism} instance(s), numbered from 0: no --instance ${at.instance}`,
    );
  return stage;
}
