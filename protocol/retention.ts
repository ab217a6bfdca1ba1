/** How long finished jobs are kept, and the storage report that shows what the Scheduler holds. */
import { z } from 'zod';

/** Finished jobs are kept this long unless the cluster (`TM_RETENTION_SECONDS`) says otherwise. */
export const DEFAULT_RETENTION_SECONDS = 7 * 24 * 3600;

/** What every job kind (and a pipeline definition, for its tasks' jobs) accepts. */
export const RetentionFields = {
  /**
   * Keep the job this long after it ends, then delete it with its tasks, logs and result objects;
   * at most the cluster's retention (a longer one is refused with 400). Default: the cluster's.
   */
  retentionSeconds: z
    .number()
    .positive()
    .max(10 * 365 * 24 * 3600)
    .optional(),
};

/** `GET /v1/admin/storage`: what the Scheduler's SQLite holds, and what bounds it. */
export const StorageReport = z.object({
  /** Bytes of the Durable Object's SQLite database (a Durable Object holds at most 10 GB). */
  databaseSizeBytes: z.number().int(),
  /** Rows of every table, by table name. */
  tables: z.record(z.string(), z.number().int()),
  /** Jobs that have ended and are still kept. */
  finishedJobs: z.number().int(),
  /** The finished job kept longest, next in line for retention; null when none is kept. */
  oldestFinishedJob: z.object({ id: z.string(), finishedAt: z.string() }).nullable(),
  removal: z.object({
    /** Jobs removed whose rows are still being deleted, a batch at a time. */
    pendingJobs: z.number().int(),
    /** Removed jobs' result folders still to delete from their object stores. */
    pendingObjectFolders: z.number().int(),
    /** Removed jobs remembered, so that reading one says it was removed. */
    tombstones: z.number().int(),
  }),
  retention: z.object({
    /** `TM_RETENTION_SECONDS`: how long finished jobs are kept at most. */
    retentionSeconds: z.number(),
    /** `TM_MAX_FINISHED_JOBS`: finished jobs kept at most; the oldest go first past it. */
    maxFinishedJobs: z.number().int(),
    /** `TM_RETENTION_BATCH_ROWS`: rows deleted in one transaction at most. */
    batchRows: z.number().int(),
  }),
});
export type StorageReport = z.infer<typeof StorageReport>;
