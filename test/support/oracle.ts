/** Compares an aggregate job's result with DuckDB's answer to the same SQL, as sorted string rows. */
import type { TmClient } from '../../cli/sdk/client.ts';
import { duckdbRows } from './datasets.ts';

export async function resultAndOracle(
  client: TmClient,
  jobId: string,
  sql: string,
): Promise<{ ours: string[][]; theirs: string[][] }> {
  const page = await client.result(jobId, 0, 1000);
  const ours = page.rows.map((row) => page.columns.map((c) => String(row[c.name]))).sort();
  const theirs = (await duckdbRows(sql)).map((row) => Object.values(row).map(String)).sort();
  return { ours, theirs };
}
