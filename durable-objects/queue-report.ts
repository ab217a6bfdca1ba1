/** The queue report: live tasks by tenant and pipeline, and their totals (GET /v1/admin/queue). */
import type { QueueReport } from '../protocol/index.ts';
import type { Core } from './core.ts';
import { queueRows } from './db/queue-report.ts';

export function queueReport(core: Core): QueueReport {
  const entries = queueRows(core.sql).map((row) => ({
    tenant: row.tenant,
    pipeline: row.pipeline === null ? null : `${row.application}/${row.pipeline}`,
    queued: row.queued,
    running: row.running,
  }));
  return {
    queued: entries.reduce((sum, entry) => sum + entry.queued, 0),
    running: entries.reduce((sum, entry) => sum + entry.running, 0),
    entries,
  };
}
