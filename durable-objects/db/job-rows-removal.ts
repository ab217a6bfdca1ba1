/**
 * Deletes a removed job's rows a bounded batch at a time: its logs, its tasks' attempts, its tasks
 * (inline results go with them), then the job row, in the order of REMOVAL_ORDER.
 */
import { z } from 'zod';
import type { Sql } from './sql.ts';
import type { RemovalTable } from '../retention-plan.ts';

const DELETE_SOME: Record<RemovalTable, string> = {
  logs: `DELETE FROM logs WHERE seq IN (SELECT seq FROM logs WHERE job_id = ? LIMIT ?) RETURNING 1 AS deleted`,
  task_attempts: `DELETE FROM task_attempts WHERE (task_id, attempt) IN (
      SELECT task_id, attempt FROM task_attempts WHERE job_id = ? LIMIT ?) RETURNING 1 AS deleted`,
  tasks: `DELETE FROM tasks WHERE seq IN (SELECT seq FROM tasks WHERE job_id = ? LIMIT ?) RETURNING 1 AS deleted`,
};

/** Deletes up to `limit` of the job's rows in `table`; returns how many it deleted. */
export function deleteSome(sql: Sql, table: RemovalTable, jobId: string, limit: number): number {
  return sql.rows(z.object({ deleted: z.number() }), DELETE_SOME[table], jobId, limit).length;
}

export function deleteJobRow(sql: Sql, jobId: string): void {
  sql.run(`DELETE FROM cleanups WHERE job_id = ?`, jobId);
  sql.run(`DELETE FROM dataflow_stages WHERE job_id = ?`, jobId);
  sql.run(`DELETE FROM dataflow_gangs WHERE job_id = ?`, jobId);
  sql.run(`DELETE FROM dataflow_barriers WHERE job_id = ?`, jobId);
  sql.run(`DELETE FROM dataflow_stage_jobs WHERE job_id = ?`, jobId);
  sql.run(`DELETE FROM jobs WHERE id = ?`, jobId);
}
