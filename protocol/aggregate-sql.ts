/**
 * An aggregate job written as SQL text: the control plane maps the query onto an
 * AggregateJobRequest (docs/aggregation.md, "SQL"); the other fields are the job's own.
 */
import { z } from 'zod';
import { AGGREGATE_FIELDS } from './aggregate.ts';
import { SubmitJobRequest } from './jobs.ts';
import { FaultPolicyFields } from './policy.ts';
import { RetentionFields } from './retention.ts';

/** Longest SQL text accepted. */
const MAX_SQL_CHARS = 100_000;

export const AggregateSqlRequest = z.strictObject({
  kind: z.literal('aggregate'),
  /** `SELECT … FROM 's3://store/prefix/' [WHERE …] [GROUP BY …] [ORDER BY …] [LIMIT n]`. */
  sql: z.string().min(1).max(MAX_SQL_CHARS),
  name: z.string().min(1).max(200).optional(),
  partitions: AGGREGATE_FIELDS.partitions,
  output: AGGREGATE_FIELDS.output,
  inlineIntermediates: AGGREGATE_FIELDS.inlineIntermediates,
  ...FaultPolicyFields,
  ...RetentionFields,
});
export type AggregateSqlRequest = z.infer<typeof AggregateSqlRequest>;

/** What `POST /v1/jobs` accepts: a job of any kind, or an aggregate job as SQL text. */
export const SubmitJobBody = z.union([SubmitJobRequest, AggregateSqlRequest]);
export type SubmitJobBody = z.infer<typeof SubmitJobBody>;

/** True for a body that asks for an aggregate job as SQL text (it is checked in full after). */
export function isSqlBody(json: unknown): boolean {
  return typeof json === 'object' && json !== null && 'sql' in json;
}
