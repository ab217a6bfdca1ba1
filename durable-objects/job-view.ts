/** A job as the API shows it: its row, its tasks counted by state and by attempt outcome. */
import type { JobView } from '../protocol/index.ts';
import type { Sql } from './db/sql.ts';
import type { JobRow } from './db/rows.ts';
import { taskCounts } from './db/tasks.ts';
import { aggregateProgress } from './aggregate-progress.ts';
import { attemptCounts } from './task-attempts.ts';
import { jobTaskPage } from './task-views.ts';
import { toJobView } from './views.ts';
import { stageViews } from './dataflow-view.ts';

/**
 * The view of a job with the first page of its tasks, of up to `taskLimit` (none when 0);
 * `retentionMs` is the cluster's.
 */
export function jobView(sql: Sql, row: JobRow, taskLimit: number, retentionMs: number): JobView {
  const tasks = taskLimit > 0 ? jobTaskPage(sql, row.id, -1, { limit: taskLimit }) : undefined;
  const view = toJobView(row, taskCounts(sql, row.id), attemptCounts(sql, row), retentionMs, tasks);
  if (row.kind === 'aggregate') return { ...view, progress: aggregateProgress(sql, row) };
  return row.kind === 'dataflow' ? { ...view, stages: stageViews(sql, row) } : view;
}
