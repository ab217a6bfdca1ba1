/** The storage report of `GET /v1/admin/storage`: what the Scheduler's SQLite holds, and its bounds. */
import type { StorageReport } from '../protocol/index.ts';
import type { Core } from './core.ts';
import { countFinished } from './db/retention.ts';
import { oldestKeptJob, removalCounts, tableRowCounts } from './db/storage-stats.ts';

export function storageReport(core: Core, databaseSizeBytes: number): StorageReport {
  const { sql, config } = core;
  const oldest = oldestKeptJob(sql);
  return {
    databaseSizeBytes,
    tables: tableRowCounts(sql),
    finishedJobs: countFinished(sql),
    oldestFinishedJob: oldest
      ? { id: oldest.id, finishedAt: new Date(oldest.finishedAt).toISOString() }
      : null,
    removal: removalCounts(sql),
    retention: {
      retentionSeconds: config.retentionMs / 1000,
      maxFinishedJobs: config.maxFinishedJobs,
      batchRows: config.retentionBatchRows,
    },
  };
}
