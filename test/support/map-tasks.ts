/** An aggregate job's map tasks as tests read them: in split order, each with its worker and figures. */
import type { JobView, MapResult } from '../../protocol/index.ts';

/** The job's map tasks in split order (their index follows the sorted listing): worker and figures. */
export function mapTasks(job: JobView): { workerId: string; result: MapResult }[] {
  return (job.tasks ?? [])
    .filter((task) => task.kind === 'aggregate-map')
    .sort((a, b) => a.index - b.index)
    .map((task) => ({ workerId: task.workerId ?? '', result: task.result as MapResult }));
}
