/** How jobs, tasks and workers read in a terminal. */
import type { AttemptView, JobView, TaskView, WorkerView } from '../../protocol/index.ts';
import { drawDag } from './dag.ts';
import { duration } from './duration.ts';
import { renderFields, renderTable } from './table.ts';

export const totalTasks = (job: JobView) =>
  Object.values(job.counts).reduce((sum, n) => sum + n, 0);

export function jobsTable(jobs: readonly JobView[], width: number): string {
  const rows = jobs.map((job) => ({
    ID: job.id,
    STATE: job.state,
    KIND: job.kind,
    NAME: job.name ?? '',
    TASKS: `${job.counts.succeeded}/${totalTasks(job)}`,
    CREATED: job.createdAt.replace('T', ' ').replace(/\.\d+Z$/, 'Z'),
    DURATION: duration(job.startedAt, job.finishedAt),
    ERROR: job.error ?? '',
  }));
  const columns = ['ID', 'STATE', 'KIND', 'NAME', 'TASKS', 'CREATED', 'DURATION', 'ERROR'];
  return renderTable(columns, rows, { maxWidth: width });
}

export function jobDetail(job: JobView, width: number): string {
  const c = job.counts;
  const a = job.attempts;
  const fields: [string, unknown][] = [
    ['id', job.id],
    ['name', job.name ?? '-'],
    ['kind', job.kind],
    ['state', job.state],
    ...(job.error ? ([['error', job.error]] as [string, unknown][]) : []),
    [
      'tasks',
      `${totalTasks(job)}: ${c.queued} queued, ${c.running} running, ${c.succeeded} succeeded, ${c.failed} failed, ${c.cancelled} cancelled`,
    ],
    [
      'attempts',
      `${a.succeeded} succeeded, ${a.failed} failed, ${a.timed_out} timed out, ${a.lost} lost, ${a.cancelled} cancelled`,
    ],
    ...(job.progress
      ? ([
          [
            'progress',
            `${job.progress.phase}: ${job.progress.tasksDone}/${job.progress.tasksTotal} tasks, ${job.progress.rowsRead.toLocaleString('en')} rows, ${job.progress.bytesRead.toLocaleString('en')} bytes read (${job.progress.bytesCached.toLocaleString('en')} from agent caches)`,
          ],
        ] as [string, unknown][])
      : []),
    ['created', job.createdAt],
    ['started', job.startedAt ?? '-'],
    ['finished', job.finishedAt ?? '-'],
    ['duration', duration(job.startedAt, job.finishedAt)],
  ];
  const tasks = job.tasks ?? [];
  const stages = job.stages?.length
    ? `\n\nstages (${job.stages.length}):\n${drawDag(job.stages, { width })}`
    : '';
  return (
    renderFields(fields, width) + stages + (tasks.length ? '\n\n' + tasksTable(tasks, width) : '')
  );
}

export function tasksTable(tasks: readonly TaskView[], width: number): string {
  const rows = tasks.map((t) => ({
    TASK: t.id,
    '#': t.index,
    STAGE: t.stage ? `${t.stage.name}#${t.stage.instance}` : '',
    KIND: t.kind,
    STATE: t.state,
    ATTEMPT: t.attempt,
    WORKER: t.workerId ?? '-',
    EXIT: t.exitCode ?? '-',
    DURATION: duration(t.startedAt, t.finishedAt),
    ERROR: t.error ?? '',
  }));
  const columns = [
    'TASK',
    '#',
    ...(tasks.some((t) => t.stage) ? ['STAGE'] : []),
    'KIND',
    'STATE',
    'ATTEMPT',
    'WORKER',
    'EXIT',
    'DURATION',
    'ERROR',
  ];
  return renderTable(columns, rows, { maxWidth: width });
}

/** One line on how a job ended: `job … succeeded in 1.23s (3 tasks)`. */
export function jobSummary(job: JobView): string {
  const rows = job.progress ? `, ${job.progress.rowsRead.toLocaleString('en')} rows read` : '';
  const error = job.error ? `: ${job.error}` : '';
  return `job ${job.id} ${job.state} in ${duration(job.startedAt, job.finishedAt)} (${totalTasks(job)} tasks${rows})${error}`;
}

export function workersTable(workers: readonly WorkerView[], width: number): string {
  const rows = workers.map((w) => ({
    ID: w.id,
    ADDRESS: w.address,
    STATE: w.state,
    CONNECTED: w.connected ? 'yes' : 'no',
    HEARTBEAT:
      w.lastHeartbeatAgeMs === null ? '-' : `${(w.lastHeartbeatAgeMs / 1000).toFixed(1)}s ago`,
    TASKS: `${w.runningTasks}/${w.slots}`,
    ISOLATION: w.isolation ?? '-',
    LABELS: Object.entries(w.labels)
      .map(([k, v]) => `${k}=${v}`)
      .join(','),
  }));
  const columns = [
    'ID',
    'ADDRESS',
    'STATE',
    'CONNECTED',
    'HEARTBEAT',
    'TASKS',
    'ISOLATION',
    'LABELS',
  ];
  return renderTable(columns, rows, { maxWidth: width });
}

/** A task's ended attempts, oldest first: where each ran, how it ended, and when. */
export function attemptsTable(attempts: readonly AttemptView[], width: number): string {
  const rows = attempts.map((a) => ({
    ATTEMPT: a.attempt,
    WORKER: a.workerId ?? '-',
    OUTCOME: a.outcome,
    EXIT: a.exitCode ?? '-',
    STARTED: a.startedAt ?? a.assignedAt ?? '-',
    DURATION: duration(a.startedAt ?? a.assignedAt, a.finishedAt),
    ERROR: a.error ?? '',
  }));
  const columns = ['ATTEMPT', 'WORKER', 'OUTCOME', 'EXIT', 'STARTED', 'DURATION', 'ERROR'];
  return renderTable(columns, rows, { maxWidth: width });
}
