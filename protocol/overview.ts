/**
 * What the dashboard shows live (docs/dashboard.md): tasks ended per time bucket
 * (`GET /v1/throughput`) and the overview snapshot `GET /v1/events` pushes as server-sent events.
 * Each is scoped to the caller: a tenant's own tasks and jobs, or all of them for the admin.
 */
import { z } from 'zod';
import { JobView } from './jobs.ts';
import { WorkerView } from './workers.ts';
import { QueueReport } from './queue-report.ts';

/** The longest window the throughput chart reads, in minutes. */
export const MAX_THROUGHPUT_MINUTES = 60;
/** Buckets a throughput window is cut into, whatever its length. */
export const THROUGHPUT_BUCKETS = 60;

export const ThroughputQuery = z.strictObject({
  /** The window, ending now (default 10). */
  minutes: z.coerce.number().int().min(1).max(MAX_THROUGHPUT_MINUTES).optional(),
});

export const ThroughputBucket = z.object({
  /** The bucket's start; it lasts `bucketSeconds`. */
  start: z.string(),
  /** Tasks that succeeded in it. */
  succeeded: z.number().int(),
  /** Attempts that failed, timed out or were lost in it. */
  failed: z.number().int(),
});
export type ThroughputBucket = z.infer<typeof ThroughputBucket>;

export const Throughput = z.object({
  windowSeconds: z.number().int(),
  bucketSeconds: z.number().int(),
  /** Oldest first; the last one is still filling. */
  buckets: z.array(ThroughputBucket),
});
export type Throughput = z.infer<typeof Throughput>;

/** `GET /v1/events` takes no query parameters. */
export const EventsQuery = z.strictObject({});

export const Overview = z.object({
  /** The caller's tasks waiting, and assigned or running. */
  queued: z.number().int(),
  running: z.number().int(),
  /** The last 10 minutes. */
  throughput: Throughput,
  /** The caller's running jobs, newest first (at most OVERVIEW_JOBS), with their progress. */
  jobs: z.array(JobView),
  /** The admin's only: the workers, as `GET /v1/workers` lists them. */
  workers: z.array(WorkerView).optional(),
  /** The admin's only: the queue by tenant and pipeline. */
  queue: QueueReport.optional(),
});
export type Overview = z.infer<typeof Overview>;

/** Running jobs an overview lists at most. */
export const OVERVIEW_JOBS = 20;
