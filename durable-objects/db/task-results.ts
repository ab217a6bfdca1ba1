/** Task results in SQLite as they arrive: an echo job's payload to compare, its job's budget. */
import { z } from 'zod';
import type { Sql } from './sql.ts';
import { findJob } from './jobs.ts';

/** The payload of an echo job as JSON text, as its tasks were sent it (null: no such echo job). */
export function echoPayloadJson(sql: Sql, jobId: string): string | null {
  const row = findJob(sql, jobId);
  // Only an echo job's spec holds the payload its tasks echo (a dataflow's echo stages keep theirs).
  if (row === null || row.kind !== 'echo') return null;
  const spec = z.object({ payload: z.json().nullable().optional() }).parse(JSON.parse(row.spec));
  return JSON.stringify(spec.payload ?? null);
}

/** Adds `bytes` to what `jobId`'s results have stored. */
export function chargeJobResults(sql: Sql, jobId: string, bytes: number): void {
  if (bytes > 0)
    sql.run(`UPDATE jobs SET result_bytes = result_bytes + ? WHERE id = ?`, bytes, jobId);
}
