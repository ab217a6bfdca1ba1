/** Task output as stored and served: chunks of stdout/stderr with global sequence numbers. */
import { z } from 'zod';

export const LogStream = z.enum(['stdout', 'stderr', 'system']);
export type LogStream = z.infer<typeof LogStream>;

export const LogEntry = z.object({
  seq: z.number().int(),
  taskId: z.string(),
  attempt: z.number().int(),
  stream: LogStream,
  data: z.string(),
  at: z.string(),
});
export type LogEntry = z.infer<typeof LogEntry>;

export const LogsQuery = z.strictObject({
  /** Only entries with a sequence number above this one. */
  after: z.coerce.number().int().min(0).optional(),
  limit: z.coerce.number().int().min(1).max(10_000).optional(),
  /** Stream new output as NDJSON until the task (or job) ends. */
  follow: z.enum(['true', 'false']).optional(),
});

export const LogPage = z.object({
  entries: z.array(LogEntry),
  /** Pass as `after` to read on; null when there is nothing more stored yet. */
  next: z.number().int().nullable(),
  done: z.boolean(),
});
export type LogPage = z.infer<typeof LogPage>;

/** The last NDJSON line of a followed log stream. */
export const LogStreamEnd = z.object({ end: z.literal(true), state: z.string() });
export type LogStreamEnd = z.infer<typeof LogStreamEnd>;
