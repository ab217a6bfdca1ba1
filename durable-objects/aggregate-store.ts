/**
 * The stored shape of an aggregate job and of its tasks' own parts, as zod schemas: the JSON read
 * back from `jobs.spec` and `tasks.spec` is parsed with them (db/json-column.ts), never cast.
 */
import { z } from 'zod';
import { AggregateQuery, InputFormat, InputSplit, OrderBy } from '../protocol/index.ts';

export const AggregateJobSpec = z.object({
  source: z.object({
    store: z.string(),
    prefix: z.string().optional(),
    paths: z.array(z.string()).optional(),
    format: InputFormat,
  }),
  query: AggregateQuery,
  orderBy: z.array(OrderBy).optional(),
  limit: z.number().int().optional(),
  partitions: z.number().int(),
  /** Bytes of outputs each map and each reduce may hand back inline (absent: none). */
  inline: z.object({ map: z.number().int(), reduce: z.number().int() }).optional(),
  /** The output store's id and the folder (with trailing slash) under which every object goes. */
  output: z.object({ store: z.string(), base: z.string() }),
});
export type AggregateJobSpec = z.infer<typeof AggregateJobSpec>;

export const AggregateTaskPart = z.discriminatedUnion('step', [
  z.object({ step: z.literal('map'), input: InputSplit }),
  z.object({
    step: z.literal('reduce'),
    partition: z.number().int(),
    inputs: z.array(z.string()),
    inline: z.array(z.string()).optional(),
  }),
  z.object({
    step: z.literal('final'),
    inputs: z.array(z.string()),
    inline: z.array(z.string()).optional(),
    partials: z.literal(true).optional(),
  }),
]);
export type AggregateTaskPart = z.infer<typeof AggregateTaskPart>;
