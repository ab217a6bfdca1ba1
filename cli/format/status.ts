/** `tm status` as text: one titled section per part of the cluster. */
import type { JobView, QueueReport, StorageReport, WorkerView } from '../../protocol/index.ts';
import { jobsTable, workersTable } from './jobs.ts';
import { renderFields, renderTable } from './table.ts';

/** Bytes as B, KiB, MiB or GiB, one decimal past B. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** A duration in seconds as the largest whole unit that fits (7 d, 36 h, 90 s). */
export function formatSeconds(seconds: number): string {
  for (const [unit, size] of [
    ['d', 86_400],
    ['h', 3600],
    ['min', 60],
  ] as const)
    if (seconds >= size && seconds % size === 0) return `${seconds / size} ${unit}`;
  return `${seconds} s`;
}

export function storageSection(report: StorageReport, width: number): string {
  const { removal, retention } = report;
  const oldest = report.oldestFinishedJob;
  const fields: [string, unknown][] = [
    ['database', formatBytes(report.databaseSizeBytes)],
    ['finished jobs', `${report.finishedJobs} kept, at most ${retention.maxFinishedJobs}`],
    ['oldest kept', oldest ? `${oldest.id}, finished ${oldest.finishedAt}` : '-'],
    ['retention', `${formatSeconds(retention.retentionSeconds)} (a job may ask for less)`],
    [
      'removing',
      `${removal.pendingJobs} jobs, ${removal.pendingObjectFolders} result folders; ${removal.tombstones} tombstones`,
    ],
  ];
  const rows = Object.entries(report.tables).map(([table, count]) => ({ table, rows: count }));
  return `storage\n${renderFields(fields, width)}\n\n${renderTable(['table', 'rows'], rows, { maxWidth: width })}`;
}

export function workersSection(workers: readonly WorkerView[], width: number): string {
  const ready = workers.filter((w) => w.connected && w.state === 'ready');
  const used = ready.reduce((sum, w) => sum + w.runningTasks, 0);
  const slots = ready.reduce((sum, w) => sum + w.slots, 0);
  const head = `workers: ${ready.length} ready of ${workers.length}, ${used}/${slots} slots in use`;
  return workers.length ? `${head}\n${workersTable(workers, width)}` : `${head}`;
}

export function queueSection(queue: QueueReport, width: number): string {
  const head = `queue: ${queue.queued} queued, ${queue.running} running`;
  if (queue.entries.length === 0) return head;
  const rows = queue.entries.map((entry) => ({
    TENANT: entry.tenant ?? '(admin)',
    PIPELINE: entry.pipeline ?? '-',
    QUEUED: entry.queued,
    RUNNING: entry.running,
  }));
  return `${head}\n${renderTable(['TENANT', 'PIPELINE', 'QUEUED', 'RUNNING'], rows, { maxWidth: width })}`;
}

export function runningSection(jobs: readonly JobView[], width: number): string {
  const head = `running jobs: ${jobs.length}${jobs.length === RUNNING_SHOWN ? ' (the newest shown)' : ''}`;
  return jobs.length ? `${head}\n${jobsTable(jobs, width)}` : head;
}

/** Running jobs `tm status` lists, newest first. */
export const RUNNING_SHOWN = 20;
