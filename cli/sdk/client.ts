/** Typed client of the control plane's HTTP API; replies are checked against the protocol schemas. */
import { z } from 'zod';
import {
  ErrorBody,
  isEndState,
  JobPage,
  JobView,
  LogEntry,
  LogPage,
  LogStreamEnd,
  ObjectPage,
  ObjectStoreView,
  RegisteredWorker,
  ResultPage,
  QueueReport,
  StorageReport,
  TaskPage,
  TaskResult,
  TaskView,
  WorkerView,
  type JobState,
  type JOB_KINDS,
  type RegisterWorkerRequest,
  type DataflowJobRequest,
  type SubmitJobBody,
  type TaskState,
  type WorkerState,
  type RegisterObjectStoreRequest,
  ApplicationView,
  CreatedTenantToken,
  PipelineSubmission,
  PipelineTaskView,
  PipelineView,
  TenantView,
  WhoAmI,
  type CreatePipelineRequest,
  type CreateTenantRequest,
  type UpdateTenantRequest,
  type PipelineTaskData,
} from '../../protocol/index.ts';
import { ApplicationList, TenantList } from '../../protocol/openapi.ts';
import { TmApiError, TmConnectionError } from './errors.ts';
import { ndjsonLines } from './ndjson.ts';

export type LogScope = { taskId: string } | { jobId: string };
export type FollowEvent = LogEntry | LogStreamEnd;

/** Which page of a paged list: `limit` rows at most (1000), from `cursor` (a page's `next`). */
export interface PageQuery<State extends string> {
  state?: State | undefined;
  limit?: number | undefined;
  cursor?: string | undefined;
}

/** A page of jobs: of one kind, one tenant's (the admin's filter), created in [since, until) (ISO 8601). */
export interface JobsPageQuery extends PageQuery<JobState> {
  kind?: (typeof JOB_KINDS)[number] | undefined;
  tenant?: string | undefined;
  since?: string | undefined;
  until?: string | undefined;
}

/** A page of tasks across jobs: of one worker's, with `worker` (its id). */
export interface TasksPageQuery extends PageQuery<TaskState> {
  worker?: string | undefined;
}

/** A page of a job's tasks: of one stage of a dataflow job, with `stage`. */
export interface JobTasksPageQuery extends PageQuery<TaskState> {
  stage?: string | undefined;
}

export interface ClientOptions {
  token?: string;
  fetch?: typeof fetch;
}

/** Accepts `host:port`, `http(s)://…` or a bare host; returns the API's base URL. */
export function normalizeBaseUrl(target: string): string {
  const withScheme = /^[a-z]+:\/\//i.test(target) ? target : `http://${target}`;
  return withScheme.replace(/\/+$/, '');
}

export class TmClient {
  readonly baseUrl: string;
  private readonly fetchImpl: typeof fetch;

  constructor(
    target: string,
    private readonly options: ClientOptions = {},
  ) {
    this.baseUrl = normalizeBaseUrl(target);
    this.fetchImpl = options.fetch ?? fetch;
  }

  health = () =>
    this.call('GET', '/v1/health', z.object({ ok: z.boolean(), connectedWorkers: z.number() }));
  registerWorker = (request: RegisterWorkerRequest) =>
    this.call('POST', '/v1/workers', RegisteredWorker, request);
  listWorkers = (state?: WorkerState) =>
    this.call(
      'GET',
      `/v1/workers${state ? `?state=${state}` : ''}`,
      z.object({ workers: z.array(WorkerView) }),
    ).then((r) => r.workers);
  getWorker = (id: string) => this.call('GET', `/v1/workers/${id}`, WorkerView);
  /** Approves a pending worker: its agent gets tasks from now on. */
  approveWorker = (id: string) => this.call('POST', `/v1/workers/${id}/approve`, WorkerView);
  deregisterWorker = (id: string, force = false) =>
    this.call('DELETE', `/v1/workers/${id}${force ? '?force=true' : ''}`, WorkerView);
  /** Submits a job of any kind, or an aggregate job as SQL text (`{kind: 'aggregate', sql}`). */
  submitJob = (request: SubmitJobBody, waitSeconds?: number) =>
    this.call('POST', `/v1/jobs${waitSeconds ? `?wait=${waitSeconds}` : ''}`, JobView, request);
  /** Submits a dataflow job: a DAG of named stages (`kind` is filled in). */
  submitDataflow = (request: Omit<DataflowJobRequest, 'kind'>, waitSeconds?: number) =>
    this.submitJob({ ...request, kind: 'dataflow' }, waitSeconds);
  /** A job with the first `tasks` of its tasks (default 1000, 0: none); `tasksNext` pages on. */
  getJob = (id: string, tasks?: number) =>
    this.call('GET', `/v1/jobs/${id}${tasks === undefined ? '' : `?tasks=${tasks}`}`, JobView);
  /** The first page of jobs, newest first (see jobsPage for the rest). */
  listJobs = (state?: JobState, limit?: number) =>
    this.jobsPage({ state, limit }).then((page) => page.jobs);
  /** One page of jobs, newest first; pass its `next` as `cursor` for the next. */
  jobsPage = (page: JobsPageQuery = {}) =>
    this.call('GET', `/v1/jobs${query({ ...page })}`, JobPage);
  cancelJob = (id: string) => this.call('POST', `/v1/jobs/${id}/cancel`, JobView);
  /** One page of a job's tasks, by index; pass its `next` as `cursor` for the next. */
  jobTasksPage = (id: string, page: JobTasksPageQuery = {}) =>
    this.call('GET', `/v1/jobs/${id}/tasks${query({ ...page })}`, TaskPage);
  /** Every task of a job (in `state`, of `stage`, if given), by index, read a page at a time. */
  jobTasks = (id: string, page: Omit<JobTasksPageQuery, 'cursor'> = {}) =>
    this.pages((cursor) => this.jobTasksPage(id, { ...page, cursor }));
  /** A dataflow job's tasks of one stage (and one instance of it, if given), by index. */
  async *stageTasks(jobId: string, stage: string, instance?: number): AsyncGenerator<TaskView> {
    for await (const task of this.jobTasks(jobId, { stage }))
      if (instance === undefined || task.stage?.instance === instance) yield task;
  }
  getTask = (id: string) => this.call('GET', `/v1/tasks/${id}`, TaskView);
  /** A task's whole result: views show results only up to 64 KiB (`resultOmitted` past it). */
  getTaskResult = (id: string) => this.call('GET', `/v1/tasks/${id}/result`, TaskResult);
  /** The first page of tasks across jobs, newest first (see tasksPage and tasks for the rest). */
  listTasks = (state?: TaskState) => this.tasksPage({ state }).then((page) => page.tasks);
  /** One page of tasks across jobs, newest first; pass its `next` as `cursor` for the next. */
  tasksPage = (page: TasksPageQuery = {}) =>
    this.call('GET', `/v1/tasks${query({ ...page })}`, TaskPage);
  /** Every task across jobs (in `state`, of `worker`, if given), newest first, a page at a time. */
  tasks = (page: Omit<TasksPageQuery, 'cursor'> = {}) =>
    this.pages((cursor) => this.tasksPage({ ...page, cursor }));
  registerStore = (request: RegisterObjectStoreRequest) =>
    this.call(
      'POST',
      '/v1/object-stores',
      z.object({ store: ObjectStoreView, created: z.boolean() }),
      request,
    );
  listStores = () =>
    this.call(
      'GET',
      '/v1/object-stores',
      z.object({ objectStores: z.array(ObjectStoreView) }),
    ).then((r) => r.objectStores);
  deleteStore = (idOrName: string) =>
    this.call('DELETE', `/v1/object-stores/${idOrName}`, ObjectStoreView);
  /** One page of the objects under `prefix`; pass the page's `next` as `cursor` for the next. */
  listObjects = (idOrName: string, prefix = '', page: { cursor?: string; limit?: number } = {}) =>
    this.call(
      'GET',
      `/v1/object-stores/${segment(idOrName)}/objects${query({ prefix, ...page })}`,
      ObjectPage,
    );
  result = (jobId: string, offset = 0, limit = 1000) =>
    this.call('GET', `/v1/jobs/${jobId}/result?offset=${offset}&limit=${limit}`, ResultPage);
  /** The whole result as an Arrow IPC stream. */
  resultArrow = async (jobId: string): Promise<Uint8Array> =>
    new Uint8Array(
      await (await this.send('GET', `/v1/jobs/${jobId}/result?format=arrow`)).arrayBuffer(),
    );
  /** Every row of the result, read page by page. */
  resultAll = async (jobId: string, pageSize = 10_000): Promise<ResultPage> => {
    const first = await this.result(jobId, 0, pageSize);
    const rows = [...first.rows];
    for (let next = first.next; next !== null;) {
      const page = await this.result(jobId, next, pageSize);
      rows.push(...page.rows);
      next = page.next;
    }
    return { ...first, rows, next: null };
  };
  createTenant = (request: CreateTenantRequest) =>
    this.call('POST', '/v1/tenants', CreatedTenantToken, request);
  listTenants = () => this.call('GET', '/v1/tenants', TenantList).then((r) => r.tenants);
  /** A tenant by its id or name. */
  getTenant = (idOrName: string) => this.call('GET', tenantPath(idOrName), TenantView);
  setTenantWeight = (idOrName: string, weight: number) =>
    this.call('PATCH', tenantPath(idOrName), TenantView, { weight });
  /**
   * Sets a tenant's weight, permissions or queue quota: the permission fields given replace the
   * tenant's, the others stay (`maxQueuedTasks: null` goes back to the default).
   */
  updateTenant = (idOrName: string, request: UpdateTenantRequest) =>
    this.call('PATCH', tenantPath(idOrName), TenantView, request);
  /** Another token for the tenant (rotation); the reply is the only place it is shown. */
  createTenantToken = (idOrName: string) =>
    this.call('POST', `${tenantPath(idOrName)}/tokens`, CreatedTenantToken);
  revokeTenantToken = (idOrName: string, tokenId: string) =>
    this.call('DELETE', `${tenantPath(idOrName)}/tokens/${segment(tokenId)}`, TenantView);
  whoami = () => this.call('GET', '/v1/whoami', WhoAmI);
  /** The Scheduler's storage: database size, rows per table, retention (admin token only). */
  storage = () => this.call('GET', '/v1/admin/storage', StorageReport);
  /** Tasks queued and running, by tenant and pipeline (admin token only). */
  queue = () => this.call('GET', '/v1/admin/queue', QueueReport);
  /** Defines a pipeline, or adds a version when the definition changed. */
  putPipeline = (app: string, request: CreatePipelineRequest) =>
    this.call('POST', `${applicationPath(app)}/pipelines`, PipelineView, request);
  /** `tenant`: the admin reads that tenant's (a tenant reads only its own). */
  getPipeline = (app: string, pipeline: string, version?: number, tenant?: string) =>
    this.call('GET', `${pipelinePath(app, pipeline)}${query({ version, tenant })}`, PipelineView);
  listApplications = (tenant?: string) =>
    this.call('GET', `/api/applications${query({ tenant })}`, ApplicationList).then(
      (r) => r.applications,
    );
  getApplication = (app: string, tenant?: string) =>
    this.call('GET', `${applicationPath(app)}${query({ tenant })}`, ApplicationView);
  deletePipeline = (app: string, pipeline: string) =>
    this.call('DELETE', pipelinePath(app, pipeline), PipelineView);
  /** One task (an object of data) or a batch (an array, one task each) as one job. */
  submitPipelineTasks = (
    app: string,
    pipeline: string,
    data: PipelineTaskData | PipelineTaskData[],
    waitSeconds?: number,
  ) =>
    this.call(
      'POST',
      `${pipelinePath(app, pipeline)}${query({ wait: waitSeconds })}`,
      PipelineSubmission,
      data,
    );
  getPipelineTask = (app: string, pipeline: string, taskId: string, tenant?: string) =>
    this.call(
      'GET',
      `${pipelinePath(app, pipeline)}/tasks/${segment(taskId)}${query({ tenant })}`,
      PipelineTaskView,
    );
  logs = (scope: LogScope, after = 0) =>
    this.call('GET', `${logsPath(scope)}?after=${after}`, LogPage);

  /** Streams output as it arrives, ending with `{end: true, state}` when the task or job ends. */
  async *followLogs(scope: LogScope, after = 0, signal?: AbortSignal): AsyncGenerator<FollowEvent> {
    const response = await this.send(
      'GET',
      `${logsPath(scope)}?follow=true&after=${after}`,
      undefined,
      signal,
    );
    if (!response.body) return;
    for await (const line of ndjsonLines(response.body)) {
      const end = LogStreamEnd.safeParse(line);
      yield end.success ? end.data : LogEntry.parse(line);
    }
  }

  /** The tasks of every page from `read`, following each page's `next`. */
  private async *pages(
    read: (cursor: string | undefined) => Promise<TaskPage>,
  ): AsyncGenerator<TaskView> {
    for (let cursor: string | undefined; ;) {
      const page = await read(cursor);
      yield* page.tasks;
      if (page.next === null) return;
      cursor = page.next;
    }
  }

  /** Polls a job until it ends (or `timeoutMs` passes) and returns its last view. */
  async waitJob(id: string, timeoutMs = 60_000, pollMs = 200): Promise<JobView> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const job = await this.getJob(id);
      if (isEndState(job.state) || Date.now() > deadline) return job;
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
  }

  private async call<T extends z.ZodType>(
    method: string,
    path: string,
    schema: T,
    body?: unknown,
  ): Promise<z.infer<T>> {
    const response = await this.send(method, path, body);
    return schema.parse(await response.json());
  }

  private async send(
    method: string,
    path: string,
    body?: unknown,
    signal?: AbortSignal,
  ): Promise<Response> {
    const url = this.baseUrl + path;
    const init: RequestInit = {
      method,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(this.options.token ? { authorization: `Bearer ${this.options.token}` } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
    };
    let response: Response;
    try {
      response = await this.fetchImpl(url, init).catch((error: unknown) => {
        if (!closedIdleConnection(error)) throw error;
        return this.fetchImpl(url, init);
      });
    } catch (error) {
      throw new TmConnectionError(this.baseUrl, error);
    }
    if (response.ok) return response;
    const parsed = ErrorBody.safeParse(await response.json().catch(() => null));
    if (parsed.success) {
      const { code, message, details } = parsed.data.error;
      throw new TmApiError(response.status, code, message, details);
    }
    throw new TmApiError(
      response.status,
      'internal',
      `HTTP ${response.status} from ${method} ${path}`,
    );
  }
}

/**
 * A kept-alive connection the server had closed, reused before the close was seen: the request
 * never reached the server, so it is sent once more on a new connection (as browsers do). workerd
 * closes a connection now and then after a large reply; a client busy computing misses the FIN.
 */
function closedIdleConnection(error: unknown): boolean {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } } | null)?.cause;
  return cause?.code === 'UND_ERR_SOCKET' && cause.message === 'other side closed';
}

function query(params: Record<string, string | number | undefined>): string {
  const entries = Object.entries(params).filter(([, v]) => v !== undefined);
  return entries.length
    ? `?${new URLSearchParams(entries.map(([k, v]): [string, string] => [k, String(v)]))}`
    : '';
}

const segment = (value: string) => encodeURIComponent(value);
const tenantPath = (idOrName: string) => `/v1/tenants/${segment(idOrName)}`;
const applicationPath = (app: string) => `/api/applications/${segment(app)}`;
const pipelinePath = (app: string, pipeline: string) =>
  `${applicationPath(app)}/pipelines/${segment(pipeline)}`;

function logsPath(scope: LogScope): string {
  return 'taskId' in scope ? `/v1/tasks/${scope.taskId}/logs` : `/v1/jobs/${scope.jobId}/logs`;
}
