/**
 * Task rows as views read them: the result only when a view shows it (RESULT_PREVIEW_BYTES or
 * less), with its size, so a page never loads results it would not show. Keyset reads: a job's
 * tasks by index, tasks across jobs newest first.
 */
import { z } from 'zod';
import { RESULT_PREVIEW_BYTES, TaskState } from '../../protocol/index.ts';
import type { Sql, SqlValue } from './sql.ts';
import { notRemoved } from './removed-jobs.ts';

const TaskViewRow = z.object({
  seq: z.number().int(),
  id: z.string(),
  job_id: z.string(),
  idx: z.number().int(),
  kind: z.string(),
  state: TaskState,
  attempt: z.number().int(),
  worker_id: z.string().nullable(),
  pinned_worker_id: z.string().nullable(),
  exit_code: z.number().int().nullable(),
  error: z.string().nullable(),
  /** The stored result's JSON when it is RESULT_PREVIEW_BYTES or less; else null. */
  result_preview: z.string().nullable(),
  /** Bytes of the stored result's JSON; null when none is stored (or it is the job's payload). */
  result_bytes: z.number().int().nullable(),
  result_is_payload: z.number().int(),
  log_truncated: z.number().int(),
  created_at: z.number().int(),
  assigned_at: z.number().int().nullable(),
  started_at: z.number().int().nullable(),
  finished_at: z.number().int().nullable(),
  /** A dataflow task's place (StageTaskPart JSON); null for others. */
  stage_part: z.string().nullable(),
});
export type TaskViewRow = z.infer<typeof TaskViewRow>;

const COLUMNS = `seq, id, job_id, idx, kind, state, attempt, worker_id, pinned_worker_id, exit_code,
  error, CASE WHEN length(CAST(result AS BLOB)) <= ${RESULT_PREVIEW_BYTES} THEN result END
  AS result_preview, length(CAST(result AS BLOB)) AS result_bytes, result_is_payload,
  log_truncated, created_at, assigned_at, started_at, finished_at,
  CASE WHEN stage IS NOT NULL THEN spec END AS stage_part`;

/** `owner` sees only its tenant's rows (null: the admin, who sees all). */
const OWNED = `(? IS NULL OR tenant_id = ?)`;

/** Up to `limit` tasks of a job after index `afterIdx` (-1: from the start), by index. */
export function jobTaskRows(
  sql: Sql,
  jobId: string,
  afterIdx: number,
  state: TaskState | undefined,
  limit: number,
  stage?: number,
): TaskViewRow[] {
  const values: SqlValue[] = [jobId, afterIdx];
  if (state) values.push(state);
  if (stage !== undefined) values.push(stage);
  return sql.rows(
    TaskViewRow,
    `SELECT ${COLUMNS} FROM tasks WHERE job_id = ? AND idx > ? ${state ? 'AND state = ?' : ''}
       ${stage !== undefined ? 'AND stage = ?' : ''}
     ORDER BY idx LIMIT ?`,
    ...values,
    limit,
  );
}

/**
 * Up to `limit` tasks `owner` may see with a sequence number below `beforeSeq`, newest first; none
 * of a job removed by retention.
 */
export function taskRows(
  sql: Sql,
  owner: string | null,
  { state, worker }: { state?: TaskState | undefined; worker?: string | undefined },
  beforeSeq: number,
  limit: number,
): TaskViewRow[] {
  const values: SqlValue[] = [beforeSeq, owner, owner];
  if (state) values.push(state);
  if (worker) values.push(worker);
  return sql.rows(
    TaskViewRow,
    `SELECT ${COLUMNS} FROM tasks WHERE seq < ? AND ${OWNED} ${state ? 'AND state = ?' : ''}
       ${worker ? 'AND worker_id = ?' : ''} AND ${notRemoved('tasks.job_id')}
     ORDER BY seq DESC LIMIT ?`,
    ...values,
    limit,
  );
}

/** One task as `owner` may see it; another tenant's is not found. */
export function taskRow(sql: Sql, id: string, owner: string | null): TaskViewRow | null {
  return sql.row(
    TaskViewRow,
    `SELECT ${COLUMNS} FROM tasks WHERE id = ? AND ${OWNED}`,
    id,
    owner,
    owner,
  );
}

/** A task's whole stored result as JSON text (null: none stored). */
export function storedResult(sql: Sql, id: string): string | null {
  const row = sql.row(
    z.object({ result: z.string().nullable() }),
    `SELECT result FROM tasks WHERE id = ?`,
    id,
  );
  return row?.result ?? null;
}

const PayloadRow = z.object({ json: z.string().nullable(), bytes: z.number().int().nullable() });

/**
 * An echo job's payload as its tasks' results show it: its bytes of JSON, and the JSON when a view
 * shows it (RESULT_PREVIEW_BYTES or less).
 */
export function payloadPreview(sql: Sql, jobId: string): { json: string | null; bytes: number } {
  const row = sql.row(
    PayloadRow,
    `SELECT CASE WHEN length(CAST(p AS BLOB)) <= ${RESULT_PREVIEW_BYTES} THEN p END AS json,
       length(CAST(p AS BLOB)) AS bytes
     FROM (SELECT spec -> '$.payload' AS p FROM jobs WHERE id = ?)`,
    jobId,
  );
  // No payload at all: the tasks echoed null.
  return row?.bytes == null ? { json: 'null', bytes: 4 } : { json: row.json, bytes: row.bytes };
}
