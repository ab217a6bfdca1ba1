/** `tm status` as text: one titled section per part of the cluster (today its storage). */
import type { StorageReport } from '../../protocol/index.ts';
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
