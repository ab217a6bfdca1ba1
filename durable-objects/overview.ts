/** The overview snapshot the dashboard's live stream pushes (docs/dashboard.md), in a caller's scope. */
import { OVERVIEW_JOBS, type Overview } from '../protocol/index.ts';
import type { Core } from './core.ts';
import { listJobs } from './job-ops.ts';
import { listWorkerViews } from './worker-view.ts';
import { queueReport } from './queue-report.ts';
import { liveTaskCounts } from './db/task-ends.ts';
import { throughput } from './throughput.ts';

/** The chart's window on the overview, in minutes. */
const OVERVIEW_MINUTES = 10;

/** What `owner` (null: the admin) may see of the cluster now; workers and queue for the admin only. */
export async function overview(core: Core, owner: string | null): Promise<Overview> {
  const running = listJobs(core, owner, { state: 'running', limit: OVERVIEW_JOBS });
  const scoped = {
    ...liveTaskCounts(core.sql, owner),
    throughput: throughput(core, owner, OVERVIEW_MINUTES),
    jobs: running.jobs,
  };
  if (owner !== null) return scoped;
  const workers = await listWorkerViews(core.sql, undefined, core.now());
  return { ...scoped, workers, queue: queueReport(core) };
}
