/**
 * Tasks as the API shows them: a job's tasks and tasks across jobs in pages within the view
 * budget (view-budget.ts), one task, and one task's whole result. A view shows a result of up to
 * RESULT_PREVIEW_BYTES; a larger one by its size only (`resultOmitted`).
 */
import {
  encodeCursor,
  MAX_PAGE_ROWS,
  RESULT_PREVIEW_BYTES,
  type TaskPage,
  type TaskState,
  type TaskView,
} from '../protocol/index.ts';
import type { Sql } from './db/sql.ts';
import { iso, isoOrNull } from './views.ts';
import { withoutInline } from './aggregate-inline.ts';
import { budgetPage } from './view-budget.ts';
import {
  jobTaskRows,
  payloadPreview,
  storedResult,
  taskRow,
  taskRows,
  type TaskViewRow,
} from './db/task-views.ts';
import { echoPayloadJson } from './db/task-results.ts';
import { parseJsonColumn } from './db/json-column.ts';
import { StageTaskPart } from './dataflow-spec.ts';

/** Rows read per query: a page of the largest views (RESULT_PREVIEW_BYTES each) is ~64 of them. */
const BATCH = 50;

export interface TaskPageQuery {
  state?: TaskState | undefined;
  limit?: number | undefined;
}

/** Tasks across jobs: of one worker's, with `worker`. */
export interface TaskListQuery extends TaskPageQuery {
  worker?: string | undefined;
}

/** One page of a job's tasks by index, after index `afterIdx` (-1: the first page). */
export function jobTaskPage(
  sql: Sql,
  jobId: string,
  afterIdx: number,
  { state, limit = MAX_PAGE_ROWS, stage }: TaskPageQuery & { stage?: number | undefined },
): TaskPage {
  const page = budgetPage(
    (after: TaskViewRow | null, count) =>
      jobTaskRows(sql, jobId, after?.idx ?? afterIdx, state, count, stage),
    viewer(sql),
    { limit, batch: BATCH },
  );
  const next = page.more && page.last ? encodeCursor('job-tasks', [page.last.idx]) : null;
  return { tasks: page.views, next };
}

/** One page of the tasks `owner` may see, newest first, before sequence number `beforeSeq`. */
export function taskPage(
  sql: Sql,
  owner: string | null,
  beforeSeq: number,
  { state, limit = MAX_PAGE_ROWS, worker }: TaskListQuery,
): TaskPage {
  const page = budgetPage(
    (after: TaskViewRow | null, count) =>
      taskRows(sql, owner, { state, worker }, after?.seq ?? beforeSeq, count),
    viewer(sql),
    { limit, batch: BATCH },
  );
  const next = page.more && page.last ? encodeCursor('tasks', [page.last.seq]) : null;
  return { tasks: page.views, next };
}

/** One task as `owner` may see it (null: not found), and its row for the attempt history. */
export function oneTask(
  sql: Sql,
  id: string,
  owner: string | null,
): { view: TaskView; row: TaskViewRow } | null {
  const row = taskRow(sql, id, owner);
  return row ? { view: viewer(sql)(row), row } : null;
}

/** A task's whole stored result, which its views show only up to RESULT_PREVIEW_BYTES. */
export function wholeResult(sql: Sql, row: TaskViewRow): unknown {
  const json =
    row.result_is_payload === 1 ? echoPayloadJson(sql, row.job_id) : storedResult(sql, row.id);
  return json === null ? null : shownResult(row.kind, JSON.parse(json));
}

/** Builds task views, reading each echo job's payload once. */
function viewer(sql: Sql): (row: TaskViewRow) => TaskView {
  const payloads = new Map<string, { json: string | null; bytes: number }>();
  const payloadOf = (jobId: string) => {
    let payload = payloads.get(jobId);
    if (!payload) payloads.set(jobId, (payload = payloadPreview(sql, jobId)));
    return payload;
  };
  return (row) => {
    const result =
      row.result_is_payload === 1
        ? payloadOf(row.job_id)
        : { json: row.result_preview, bytes: row.result_bytes };
    return toTaskView(row, result);
  };
}

function toTaskView(
  row: TaskViewRow,
  result: { json: string | null; bytes: number | null },
): TaskView {
  return {
    id: row.id,
    jobId: row.job_id,
    index: row.idx,
    kind: row.kind,
    state: row.state,
    attempt: row.attempt,
    workerId: row.worker_id,
    pinnedWorkerId: row.pinned_worker_id,
    exitCode: row.exit_code,
    error: row.error,
    result: result.json === null ? null : shownResult(row.kind, JSON.parse(result.json)),
    resultBytes: result.bytes,
    resultOmitted: result.bytes !== null && result.bytes > RESULT_PREVIEW_BYTES,
    logTruncated: row.log_truncated === 1,
    createdAt: iso(row.created_at),
    assignedAt: isoOrNull(row.assigned_at),
    startedAt: isoOrNull(row.started_at),
    finishedAt: isoOrNull(row.finished_at),
    ...(row.stage_part ? { stage: stagePlace(row.stage_part) } : {}),
  };
}

function stagePlace(json: string): { name: string; instance: number } {
  const { name, instance } = parseJsonColumn(StageTaskPart, json, 'tasks.spec');
  return { name, instance };
}

/** An aggregation step's inline outputs are shown by their size, not their bytes. */
function shownResult(kind: string, result: unknown): unknown {
  return kind.startsWith('aggregate-') ? withoutInline(result) : result;
}
