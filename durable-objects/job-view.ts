/** A job as the API shows it: its row, its tasks counted by state and by attempt outcome. */
import type { JobView } from '../protocol/index.ts';
import type { Sql } from './db/sql.ts';
import type { JobRow } from './db/rows.ts';
import { taskCounts, tasksOfJob } from './db/tasks.ts';
import { aggregateProgress } from './aggregate-progress.ts';
import { attemptCounts } from './task-attempts.ts';
import { toJobView, toTaskView } from './views.ts';

/** The view of a job with its first `taskLimit` tasks (none when 0). */
export function jobView(sql: Sql, row: JobRow, taskLimit: number): JobView {
  const tasks = taskLimit > 0 ? tasksOfJob(sql, row.id, taskLimit).map(toTaskView) : undefined;
  const view = toJobView(row, taskCounts(sql, row.id), attemptCounts(sql, row), tasks);
  return row.kind === 'aggregate' ? { ...view, progress: aggregateProgress(sql, row) } : view;
}
