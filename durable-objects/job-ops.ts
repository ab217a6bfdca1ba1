/** Job and task operations behind the HTTP API: submit, read, list, cancel, logs. */
import {
  encodeCursor,
  isEndState,
  type JobPage,
  type JobView,
  type LogEntry,
  type LogPage,
  type SubmitJobRequest,
  type TaskPage,
  type TaskResult,
  type TaskView,
} from '../protocol/index.ts';
import type { Core } from './core.ts';
import { commit } from './core.ts';
import { newEffects, wakeAt } from './effects.ts';
import { attemptHistory } from './task-attempts.ts';
import { badRequest, conflict, notFound, rateLimited } from './failure.ts';
import {
  draftSimpleJob,
  planTasks,
  type JobDraft,
  type PlannedTask,
  type SimpleJobRequest,
} from './job-plan.ts';
import { draftAggregate } from './aggregate-submit.ts';
import { draftDataflow } from './dataflow-submit.ts';
import { stageRefs } from './dataflow-stage-refs.ts';
import { recordStageJob } from './db/dataflow-stage-jobs.ts';
import { startDataflow } from './dataflow-phases.ts';
import { dataflowOf } from './dataflow-cache.ts';
import { checkSpecSize } from './spec-size.ts';
import {
  findJob,
  findOwnedJob,
  insertJob,
  jobRowsBefore,
  requestCancel,
  type JobFilter,
} from './db/jobs.ts';
import { findOwnedTask, insertTasks, queuedTaskCount } from './db/tasks.ts';
import type { JobRow } from './db/rows.ts';
import { failJob, recordTaskEnds } from './job-settlement.ts';
import { listWorkers } from './db/workers.ts';
import { jobView } from './job-view.ts';
import { jobMissing } from './job-missing.ts';
import { recordRetention } from './db/retention.ts';
import { retentionRefusal } from './retention-plan.ts';
import { cancelJobTasks } from './task-lifecycle.ts';
import { readLogs, type LogScope } from './task-logs.ts';
import { budgetPage } from './view-budget.ts';
import {
  jobTaskPage,
  oneTask,
  taskPage,
  wholeResult,
  type TaskListQuery,
  type TaskPageQuery,
} from './task-views.ts';
import { admitTenant, checkJob } from './tenant-access.ts';
import { timeOrderedId } from './ids.ts';

const JOB_VIEW_TASKS = 1000;
/** Jobs read per query for a list: a view holds a spec of up to MAX_SPEC_BYTES (512 KiB). */
const JOB_BATCH = 8;
/** Log entries read per query: a chunk is at most MAX_LOG_CHUNK_BYTES (64 KiB). */
const LOG_BATCH = 50;

export interface JobListQuery extends JobFilter {
  limit?: number | undefined;
  /** The creation time and id of the last job of the page before (from its cursor). */
  before?: readonly [number, string] | null | undefined;
}

/** Creates a job and its tasks, places what it can, and optionally waits for the job to end. */
export async function submitJob(
  core: Core,
  request: SubmitJobRequest,
  waitSeconds: number,
  owner: string | null,
): Promise<JobView> {
  checkJob(core.sql, owner, request);
  const id = timeOrderedId(core.now());
  const { draft, error } =
    request.kind === 'aggregate'
      ? await draftAggregate(core, id, request)
      : request.kind === 'dataflow'
        ? {
            draft: draftDataflow(id, request, stageRefs(core, owner, request, id)),
            error: null,
          }
        : { draft: draftSimpleJob(id, request, simpleTasks(core, request)), error: null };
  await launchJob(core, draft, error, waitSeconds, owner);
  return getJob(core, id, owner);
}

/**
 * Stores a drafted job with its tasks (or ended at once by `error`) for `owner` (a tenant, or
 * null for the admin), places what it can, and waits up to `waitSeconds` for the job to end.
 */
export async function launchJob(
  core: Core,
  draft: JobDraft,
  error: string | null,
  waitSeconds: number,
  owner: string | null,
): Promise<void> {
  checkSpecSize(draft);
  const refusal = retentionRefusal(draft.policy.retentionMs, core.config.retentionMs);
  if (refusal) throw badRequest(refusal, { retentionSeconds: core.config.retentionMs / 1000 });
  const effects = newEffects();
  const now = core.now();
  core.sql.transaction(() => {
    const adding = draft.admitting ?? draft.tasks.length;
    if (owner !== null) admitTenant(core.sql, core.config, owner, adding);
    admit(core, adding);
    insertJob(core.sql, draft, now, owner);
    if (draft.parent) recordStageJob(core.sql, draft.parent, draft.id);
    insertTasks(core.sql, draft.id, draft.taskKind ?? draft.kind, draft.tasks, now);
    if (draft.stages) startDataflow(core.sql, effects, draft.id, draft.stages, now);
    recordRetention(core.sql, draft.id, draft.policy.retentionMs);
    if (error) failJob(core.sql, effects, draft.id, error, now);
  });
  if (draft.policy.jobTimeoutMs !== null) wakeAt(effects, now + draft.policy.jobTimeoutMs);
  effects.dispatch = true;
  commit(core, effects);
  if (waitSeconds > 0 && !isEndState(findJob(core.sql, draft.id)?.state ?? '')) {
    await core.watchers.waitForJob(draft.id, waitSeconds * 1000);
  }
}

/** Backpressure: the queue is bounded, so a flood of submissions is refused, not stored. */
function admit(core: Core, adding: number): void {
  const limit = core.config.maxQueuedTasks;
  const queued = queuedTaskCount(core.sql);
  if (queued + adding > limit) {
    throw rateLimited(
      `the cluster has ${queued} queued tasks and takes at most ${limit}; ` +
        `this job would add ${adding}: retry when the queue is shorter`,
      { queued, limit, adding },
    );
  }
}

/** The tasks of a command or echo job, from its worker selector. */
function simpleTasks(core: Core, request: SimpleJobRequest): PlannedTask[] {
  const candidates = listWorkers(core.sql, undefined).map((w) => ({
    id: w.id,
    state: w.conn_id ? w.state : 'lost',
    acceptsCommands: w.accepts_commands === 1,
  }));
  const plan = planTasks(request, candidates);
  if (!('error' in plan)) return plan.tasks;
  const { error } = plan;
  if (error.code === 'unknown_workers')
    throw badRequest(error.message, { unknownWorkers: error.ids });
  throw conflict(
    error.message,
    error.code === 'refuses_commands' ? { workers: error.ids } : undefined,
  );
}

export function getJob(
  core: Core,
  id: string,
  owner: string | null,
  taskLimit = JOB_VIEW_TASKS,
): JobView {
  const row = findOwnedJob(core.sql, id, owner);
  if (!row) throw jobMissing(core.sql, id, owner);
  return jobView(core.sql, row, taskLimit, core.config.retentionMs);
}

/** The jobs `owner` may see, newest first, a page at a time; a list shows no tasks. */
export function listJobs(
  core: Core,
  owner: string | null,
  { limit = 100, before = null, ...filter }: JobListQuery,
): JobPage {
  const page = budgetPage(
    (after: JobRow | null, count) =>
      jobRowsBefore(core.sql, owner, filter, after ? [after.created_at, after.id] : before, count),
    (row) => jobView(core.sql, row, 0, core.config.retentionMs),
    { limit, batch: JOB_BATCH },
  );
  const last = page.more ? page.last : null;
  return { jobs: page.views, next: last ? encodeCursor('jobs', [last.created_at, last.id]) : null };
}

/** A page of the tasks of a job `owner` may see, by index, after index `after` (or the first). */
export function jobTasks(
  core: Core,
  id: string,
  owner: string | null,
  {
    after = -1,
    stage,
    ...query
  }: TaskPageQuery & { after?: number | undefined; stage?: string | undefined },
): TaskPage {
  const row = findOwnedJob(core.sql, id, owner);
  if (!row) throw notFound('job', id);
  if (stage === undefined) return jobTaskPage(core.sql, id, after, query);
  const index =
    row.kind === 'dataflow' ? dataflowOf(row.id, row.spec).graph.names.indexOf(stage) : -1;
  if (index < 0) throw badRequest(`job ${id} has no stage "${stage}"`, { stage });
  return jobTaskPage(core.sql, id, after, { ...query, stage: index });
}

/** Cancels a job: queued tasks never run, running ones are told to stop; the state says cancelled. */
export function cancelJob(core: Core, id: string, owner: string | null): JobView {
  const row = findOwnedJob(core.sql, id, owner);
  if (!row) throw jobMissing(core.sql, id, owner);
  if (isEndState(row.state)) throw conflict(`job ${id} already ${row.state}`, { state: row.state });
  const effects = newEffects();
  core.sql.transaction(() => {
    requestCancel(core.sql, id);
    cancelJobTasks(core.sql, effects, id, core.now());
    recordTaskEnds(core.sql, effects, core.now());
  });
  commit(core, effects);
  return getJob(core, id, owner);
}

export function getTask(core: Core, id: string, owner: string | null): TaskView {
  const found = oneTask(core.sql, id, owner);
  if (!found) throw notFound('task', id);
  return { ...found.view, history: attemptHistory(core.sql, found.row) };
}

/** The tasks `owner` may see, newest first, a page at a time, before sequence number `before`. */
export function listTasks(
  core: Core,
  owner: string | null,
  { before = Number.MAX_SAFE_INTEGER, ...query }: TaskListQuery & { before?: number | undefined },
): TaskPage {
  return taskPage(core.sql, owner, before, query);
}

/** A task's whole stored result, which views show only up to RESULT_PREVIEW_BYTES. */
export function getTaskResult(core: Core, id: string, owner: string | null): TaskResult {
  const found = oneTask(core.sql, id, owner);
  if (!found) throw notFound('task', id);
  return {
    id,
    result: wholeResult(core.sql, found.row),
    resultBytes: found.view.resultBytes,
  };
}

/** Whether the task or job behind a log scope has ended (no more output will come). */
export function scopeState(
  core: Core,
  scope: LogScope,
  owner: string | null,
): { state: string; done: boolean } {
  const state =
    'taskId' in scope
      ? findOwnedTask(core.sql, scope.taskId, owner)?.state
      : findOwnedJob(core.sql, scope.jobId, owner)?.state;
  if (!state)
    throw 'taskId' in scope
      ? notFound('task', scope.taskId)
      : jobMissing(core.sql, scope.jobId, owner);
  return { state, done: isEndState(state) };
}

export function logPage(
  core: Core,
  scope: LogScope,
  owner: string | null,
  after = 0,
  limit = 1000,
): LogPage {
  const { done } = scopeState(core, scope, owner);
  const page = budgetPage(
    (last: LogEntry | null, count) => readLogs(core.sql, scope, last?.seq ?? after, count),
    (entry) => entry,
    { limit, batch: LOG_BATCH },
  );
  return { entries: page.views, next: page.last?.seq ?? null, done: done && !page.more };
}
