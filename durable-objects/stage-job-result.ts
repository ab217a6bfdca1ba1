/**
 * An aggregate stage's result, as its hold task keeps it and its downstreams read it as text:
 * the job it ran, its result's rows, and where the Arrow result is (absent when no row matched).
 */
import { z } from 'zod';

export const StageJobResult = z.object({
  job: z.string(),
  rows: z.number().int(),
  store: z.string().optional(),
  key: z.string().optional(),
});
export type StageJobResult = z.infer<typeof StageJobResult>;
