/** A task's states, shared by jobs' and pipelines' views. */
import { z } from 'zod';

export const TaskState = z.enum([
  'queued',
  'assigned',
  'running',
  'succeeded',
  'failed',
  'cancelled',
]);
export type TaskState = z.infer<typeof TaskState>;
