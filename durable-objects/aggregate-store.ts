/** The stored shape of an aggregate job and of its tasks' own parts. */
import type { AggregateQuery, InputFormat, InputSplit, OrderBy } from '../protocol/index.ts';

export interface AggregateJobSpec {
  source: { store: string; prefix?: string; paths?: string[]; format: InputFormat };
  query: AggregateQuery;
  orderBy?: OrderBy[];
  limit?: number;
  partitions: number;
  /** Bytes of outputs each map and each reduce may hand back inline (absent: none). */
  inline?: { map: number; reduce: number };
  /** The output store's id and the folder (with trailing slash) under which every object goes. */
  output: { store: string; base: string };
}

export type AggregateTaskPart =
  | { step: 'map'; input: InputSplit }
  | { step: 'reduce'; partition: number; inputs: string[]; inline?: string[] }
  | { step: 'final'; inputs: string[]; inline?: string[]; partials?: true };
