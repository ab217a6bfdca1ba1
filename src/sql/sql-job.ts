/**
 * `POST /v1/jobs` with `{"kind":"aggregate","sql":…}`: the SQL mapped onto an aggregate job
 * here at the edge, its FROM onto one of the registered stores, then checked with the same
 * schema as any aggregate job. A refusal is a 400 naming the clause (and its line and column).
 */
import { AggregateSqlRequest, SubmitJobRequest } from '../../protocol/index.ts';
import { badRequest } from '../errors.ts';
import { checkBody } from '../validate.ts';
import { sqlAggregation } from './sql-query.ts';
import { SqlRefusal } from './sql-refusal.ts';
import type { StoreLocation } from './sql-store.ts';

export async function sqlJob(
  json: unknown,
  stores: () => Promise<StoreLocation[]>,
): Promise<SubmitJobRequest> {
  const { sql, ...job } = checkBody(json, AggregateSqlRequest);
  try {
    return checkBody({ ...job, ...sqlAggregation(sql, await stores()) }, SubmitJobRequest);
  } catch (error) {
    if (!(error instanceof SqlRefusal)) throw error;
    throw badRequest(error.message, {
      clause: error.clause,
      ...(error.at ? { line: error.at.line, column: error.at.column } : {}),
    });
  }
}
