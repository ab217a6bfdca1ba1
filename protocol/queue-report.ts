/** The admin's view of the queue: tasks waiting and running, by tenant and pipeline. */
import { z } from 'zod';

export const QueueEntry = z.object({
  /** The tenant's name; null: the admin's own jobs. */
  tenant: z.string().nullable(),
  /** `application/pipeline` for a pipeline's tasks (a pipeline job's or a dataflow stage's). */
  pipeline: z.string().nullable(),
  queued: z.number().int(),
  /** Assigned or running. */
  running: z.number().int(),
});
export type QueueEntry = z.infer<typeof QueueEntry>;

export const QueueReport = z.object({
  queued: z.number().int(),
  running: z.number().int(),
  /** By tenant and pipeline, the most queued first. */
  entries: z.array(QueueEntry),
});
export type QueueReport = z.infer<typeof QueueReport>;
