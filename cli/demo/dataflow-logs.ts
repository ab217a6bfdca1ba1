/**
 * The dataflow demo's running commentary: the stderr of the seed's stages, each line labelled with
 * its stage and instance (`[sink#0]`). Only the producers, the first syncer (its DDL barriers) and
 * the sink speak, so the story stays short; a dropped follow (wrangler reloading) resumes.
 */
import type { JobView, TaskView } from '../../protocol/index.ts';
import type { TmClient } from '../sdk/client.ts';

/** Which instances' lines the demo shows. */
const shown = (stage: TaskView['stage']) =>
  stage !== undefined &&
  (stage.name === 'producer' ||
    stage.name === 'sink' ||
    (stage.name === 'syncer' && stage.instance === 0));

export const label = (task: Pick<TaskView, 'stage' | 'id'>) =>
  task.stage ? `${task.stage.name}#${task.stage.instance}` : task.id.slice(0, 8);

/** Follows the job's logs until it ends or `signal` aborts, printing each shown line with `print`. */
export async function followStageLogs(
  client: TmClient,
  job: JobView,
  print: (line: string) => void,
  signal: AbortSignal,
): Promise<void> {
  const tasks = new Map((job.tasks ?? []).map((task) => [task.id, task]));
  let after = 0;
  while (!signal.aborted) {
    try {
      for await (const event of client.followLogs({ jobId: job.id }, after, signal)) {
        if ('end' in event) return;
        after = event.seq;
        const task = tasks.get(event.taskId);
        if (!task || !shown(task.stage) || event.stream !== 'stderr') continue;
        for (const line of event.data.replace(/\n$/, '').split('\n'))
          print(`[${label(task)}] ${line}`);
      }
      return;
    } catch {
      if (signal.aborted) return;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}
