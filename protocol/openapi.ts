/**
 * The HTTP API as data: every route under /v1 and /api, and /metrics, with the protocol schemas of its query,
 * body and replies. `GET /v1/openapi.json` is built from this table (src/openapi/document.ts), and a test
 * checks the table against the routes the Hono app really has.
 */
import { z } from 'zod';
import { ErrorBody } from './errors.ts';
import {
  DeregisterQuery,
  ListWorkersQuery,
  RegisteredWorker,
  RegisterWorkerRequest,
  WorkerView,
} from './workers.ts';
import {
  JobPage,
  JobQuery,
  JobTasksQuery,
  JobView,
  ListJobsQuery,
  ListTasksQuery,
  SubmitJobQuery,
  TaskPage,
  TaskResult,
  TaskView,
} from './jobs.ts';
import { LogEntry, LogPage, LogsQuery, LogStreamEnd } from './logs.ts';
import {
  ListObjectsQuery,
  ObjectPage,
  ObjectStoreView,
  RegisterObjectStoreRequest,
} from './object-stores.ts';
import { ResultPage, ResultQuery } from './aggregate.ts';
import { SubmitJobBody } from './aggregate-sql.ts';
import {
  ApplicationView,
  CreatePipelineRequest,
  ApplicationsQuery,
  PipelineQuery,
  PipelineSubmission,
  PipelineTaskView,
  PipelineView,
  SubmitPipelineRequest,
} from './pipelines.ts';
import {
  CreatedTenantToken,
  CreateTenantRequest,
  TenantView,
  UpdateTenantRequest,
  WhoAmI,
} from './tenants.ts';
import { StorageReport } from './retention.ts';
import { QueueReport } from './queue-report.ts';
import { EventsQuery, Overview, Throughput, ThroughputQuery } from './overview.ts';

// Replies that wrap the views above; the routes build them inline, so they are named here.
export const HealthView = z.object({
  ok: z.boolean(),
  protocolVersion: z.number().int(),
  connectedWorkers: z.number().int(),
});
export const WorkerList = z.object({ workers: z.array(WorkerView) });
export const ObjectStoreList = z.object({ objectStores: z.array(ObjectStoreView) });
export const TenantList = z.object({ tenants: z.array(TenantView) });
export const StoreRegistration = z.object({ store: ObjectStoreView, created: z.boolean() });
export const ApplicationList = z.object({ applications: z.array(ApplicationView) });
export const PipelineList = z.object({ pipelines: z.array(PipelineView) });
/** One line of a followed log (`?follow=true`, NDJSON): entries, then one end line. */
export const LogStreamLine = z.union([LogEntry, LogStreamEnd]);

/** Request bodies by component name; the document shows them as the API accepts them. */
export const REQUEST_SCHEMAS = {
  /** A job of any kind, or an aggregate job as SQL text. */
  SubmitJobRequest: SubmitJobBody,
  RegisterWorkerRequest,
  RegisterObjectStoreRequest,
  CreatePipelineRequest,
  SubmitPipelineRequest,
  CreateTenantRequest,
  UpdateTenantRequest,
} satisfies Record<string, z.ZodType>;

/** Replies by component name; the document shows them as the API sends them. */
export const RESPONSE_SCHEMAS = {
  ErrorBody,
  HealthView,
  WorkerView,
  WorkerList,
  RegisteredWorker,
  JobView,
  JobPage,
  TaskView,
  TaskPage,
  TaskResult,
  LogEntry,
  LogPage,
  LogStreamEnd,
  LogStreamLine,
  ResultPage,
  ObjectStoreView,
  ObjectStoreList,
  StoreRegistration,
  ObjectPage,
  ApplicationView,
  ApplicationList,
  PipelineView,
  PipelineList,
  PipelineSubmission,
  PipelineTaskView,
  TenantView,
  TenantList,
  CreatedTenantToken,
  WhoAmI,
  QueueReport,
  StorageReport,
  Throughput,
  Overview,
} satisfies Record<string, z.ZodType>;

/** Media types of the replies that are not JSON. */
export const NDJSON = 'application/x-ndjson';
export const ARROW_STREAM = 'application/vnd.apache.arrow.stream';
export const EVENT_STREAM = 'text/event-stream';

export interface ApiReply {
  description: string;
  /** By media type: a schema of RESPONSE_SCHEMAS, or null for bytes without a JSON schema. */
  content?: Record<string, z.ZodType | null>;
  /** Reply headers by name, with their description. */
  headers?: Record<string, string>;
}

/** Statuses a route answers with ErrorBody (see protocol/errors.ts), with when. */
export type ApiErrors = Partial<
  Record<400 | 401 | 403 | 404 | 409 | 413 | 429 | 500 | 502 | 503, string>
>;

/**
 * Who may call a route: anyone (`open`), an agent with a join token (`join`), the admin token
 * only (`admin`), the admin token or the metrics token (`metrics`), or (the default) any API
 * token, the admin's or a tenant's.
 */
export type ApiAuth = 'open' | 'join' | 'admin' | 'metrics' | 'token';

export interface ApiRoute {
  method: 'get' | 'post' | 'patch' | 'delete';
  /** OpenAPI style: `{id}` where Hono has `:id`. */
  path: `/v1/${string}` | `/api/${string}` | '/metrics';
  operationId: string;
  summary: string;
  tag: string;
  pathParams?: Record<string, z.ZodType>;
  query?: z.ZodObject;
  body?: z.ZodType;
  replies: Record<number, ApiReply>;
  errors: ApiErrors;
  /** Default `token`: the document adds the auth errors (401, 403, 429, 503) itself. */
  auth?: ApiAuth;
}

const INTERNAL = 'internal error';
const BAD_QUERY = 'invalid or unknown query parameter';
const BAD_BODY = 'invalid JSON (`invalid_json`) or a body the schema refuses (`bad_request`)';
const FOLLOWERS_CAPPED =
  'with follow=true: the job or task, or the Scheduler, has as many log followers as it may (the message names the cap)';
const TOO_LARGE = 'request body over 1 MiB';
/** A job never there (`not_found`), or removed by retention (`job_removed`, docs/storage.md). */
const NO_JOB = 'no such job (`not_found`), or it was removed by retention (`job_removed`)';
/** A tenant's permissions refuse the request (docs/security.md, "Tenants"). */
const NOT_PERMITTED =
  "the tenant's permissions do not allow it: `details.permission` says which (job_kind, executor, free_form_program, store_read, store_write)";
const QUEUE_FULL =
  'the cluster\'s queue, or the tenant\'s own quota (`details.quota: "tenant"`), is full; retry later';
/** Ids that are not UUIDs name nothing, so they are 404s rather than 400s. */
const uuidParam = (what: string) => ({ id: z.guid().describe(`the ${what}'s id`) });
const storeParam = { id: z.string().describe("the store's id or name") };
const json = (schema: z.ZodType) => ({ 'application/json': schema });
const logReplies: Record<number, ApiReply> = {
  200: {
    description:
      'a page of output; with `follow=true` an NDJSON stream of entries that ends with `{"end":true,"state":…}`',
    content: { ...json(LogPage), [NDJSON]: LogStreamLine },
  },
};

export const API_ROUTES: readonly ApiRoute[] = [
  {
    method: 'get',
    path: '/v1/health',
    auth: 'open',
    operationId: 'health',
    summary: 'The control plane and its Scheduler answer; connected worker count',
    tag: 'health',
    replies: { 200: { description: 'healthy', content: json(HealthView) } },
    errors: { 500: INTERNAL },
  },
  {
    method: 'get',
    path: '/v1/admin/storage',
    auth: 'admin',
    operationId: 'storageReport',
    summary:
      "The Scheduler's storage: database size, rows per table, the oldest finished job kept, retention settings",
    tag: 'health',
    replies: { 200: { description: 'the storage report', content: json(StorageReport) } },
    errors: { 500: INTERNAL },
  },
  {
    method: 'get',
    path: '/v1/admin/queue',
    auth: 'admin',
    operationId: 'queueReport',
    summary: 'Tasks queued and running, by tenant and pipeline, with their totals',
    tag: 'health',
    replies: { 200: { description: 'the queue report', content: json(QueueReport) } },
    errors: { 500: INTERNAL },
  },
  {
    method: 'get',
    path: '/metrics',
    auth: 'metrics',
    operationId: 'metrics',
    summary:
      'Prometheus metrics (text format 0.0.4): queue, task attempts, latencies, agents, storage, requests (docs/observability.md)',
    tag: 'health',
    replies: {
      200: { description: 'the metrics, as Prometheus text', content: { 'text/plain': null } },
    },
    errors: { 500: INTERNAL },
  },
  {
    method: 'get',
    path: '/v1/throughput',
    operationId: 'throughput',
    summary:
      "Tasks succeeded and attempts failed per time bucket over the last minutes, the caller's own (all for the admin)",
    tag: 'health',
    query: ThroughputQuery,
    replies: { 200: { description: 'the buckets, oldest first', content: json(Throughput) } },
    errors: { 400: BAD_QUERY, 500: INTERNAL },
  },
  {
    method: 'get',
    path: '/v1/events',
    operationId: 'events',
    summary:
      "The dashboard's live overview in the caller's scope, as server-sent events (`event: overview`, `data:` an Overview) when it changes, at most every 2 s",
    tag: 'health',
    query: EventsQuery,
    replies: {
      200: {
        description: 'a stream of `overview` events, each `data:` line an Overview as JSON',
        content: { [EVENT_STREAM]: Overview },
      },
    },
    errors: {
      400: BAD_QUERY,
      429: 'the token, or the Scheduler, holds as many event streams as it may (the message names the cap)',
      500: INTERNAL,
    },
  },
  {
    method: 'get',
    path: '/v1/openapi.json',
    auth: 'open',
    operationId: 'openapi',
    summary: 'This document',
    tag: 'health',
    replies: {
      200: { description: 'the OpenAPI 3.1 document', content: { 'application/json': null } },
    },
    errors: { 500: INTERNAL },
  },
  {
    method: 'post',
    path: '/v1/workers',
    auth: 'admin',
    operationId: 'registerWorker',
    summary: 'Registers a worker; its join token is shown once',
    tag: 'workers',
    body: RegisterWorkerRequest,
    replies: {
      200: {
        description: 'the address was already registered (`created: false`, no token)',
        content: json(RegisteredWorker),
      },
      201: { description: 'registered, with a join token', content: json(RegisteredWorker) },
    },
    errors: {
      400: BAD_BODY,
      409: '`fingerprint` is not the key the worker is already bound to',
      413: TOO_LARGE,
      500: INTERNAL,
    },
  },
  {
    method: 'get',
    path: '/v1/workers',
    auth: 'admin',
    operationId: 'listWorkers',
    summary: 'Every worker with its state and health',
    tag: 'workers',
    query: ListWorkersQuery,
    replies: { 200: { description: 'the workers', content: json(WorkerList) } },
    errors: { 400: BAD_QUERY, 500: INTERNAL },
  },
  {
    method: 'get',
    path: '/v1/workers/{id}',
    auth: 'admin',
    operationId: 'getWorker',
    summary: 'One worker',
    tag: 'workers',
    pathParams: uuidParam('worker'),
    replies: { 200: { description: 'the worker', content: json(WorkerView) } },
    errors: { 404: 'no such worker', 500: INTERNAL },
  },
  {
    method: 'post',
    path: '/v1/workers/{id}/approve',
    auth: 'admin',
    operationId: 'approveWorker',
    summary: 'Approves a pending worker: its agent gets tasks from now on',
    tag: 'workers',
    pathParams: uuidParam('worker'),
    replies: {
      200: { description: 'the worker, approved (again: no change)', content: json(WorkerView) },
    },
    errors: {
      404: 'no such worker',
      409: 'no agent has said hello with a key yet: nothing to approve',
      500: INTERNAL,
    },
  },
  {
    method: 'delete',
    path: '/v1/workers/{id}',
    auth: 'admin',
    operationId: 'deregisterWorker',
    summary: 'Drains a worker, or with `force=true` removes it at once',
    tag: 'workers',
    pathParams: uuidParam('worker'),
    query: DeregisterQuery,
    replies: {
      200: { description: 'removed (`state: gone`)', content: json(WorkerView) },
      202: { description: 'draining: removed once its tasks end', content: json(WorkerView) },
    },
    errors: { 400: BAD_QUERY, 404: 'no such worker', 500: INTERNAL },
  },
  {
    method: 'post',
    path: '/v1/jobs',
    operationId: 'submitJob',
    summary:
      'Submits a job; `wait` holds the reply until it ends. An aggregate job may come as SQL text (`{"kind":"aggregate","sql":…}`, see docs/aggregation.md)',
    tag: 'jobs',
    query: SubmitJobQuery,
    body: SubmitJobBody,
    replies: { 202: { description: 'accepted, with its tasks', content: json(JobView) } },
    errors: {
      400: `${BAD_BODY}, an unknown worker id or object store, a retentionSeconds over the cluster's, SQL that does not parse or asks for what an aggregate job cannot do (details: clause, line, column)`,
      403: NOT_PERMITTED,
      409: 'no worker can take the job (none ready, or they refuse commands)',
      413: TOO_LARGE,
      429: QUEUE_FULL,
      500: INTERNAL,
    },
  },
  {
    method: 'get',
    path: '/v1/jobs',
    operationId: 'listJobs',
    summary: 'Jobs, newest first, a page at a time (without their tasks)',
    tag: 'jobs',
    query: ListJobsQuery,
    replies: { 200: { description: 'a page of jobs', content: json(JobPage) } },
    errors: { 400: BAD_QUERY, 500: INTERNAL },
  },
  {
    method: 'get',
    path: '/v1/jobs/{id}',
    operationId: 'getJob',
    summary: 'One job with its task counts, attempts, timings and the first page of its tasks',
    tag: 'jobs',
    pathParams: uuidParam('job'),
    query: JobQuery,
    replies: { 200: { description: 'the job', content: json(JobView) } },
    errors: { 400: BAD_QUERY, 404: NO_JOB, 500: INTERNAL },
  },
  {
    method: 'get',
    path: '/v1/jobs/{id}/tasks',
    operationId: 'jobTasks',
    summary: "A page of a job's tasks, by index",
    tag: 'jobs',
    pathParams: uuidParam('job'),
    query: JobTasksQuery,
    replies: { 200: { description: 'a page of tasks', content: json(TaskPage) } },
    errors: { 400: BAD_QUERY, 404: 'no such job', 500: INTERNAL },
  },
  {
    method: 'post',
    path: '/v1/jobs/{id}/cancel',
    operationId: 'cancelJob',
    summary: 'Cancels a job',
    tag: 'jobs',
    pathParams: uuidParam('job'),
    replies: { 200: { description: 'the cancelled job', content: json(JobView) } },
    errors: { 404: NO_JOB, 409: 'the job already ended', 500: INTERNAL },
  },
  {
    method: 'get',
    path: '/v1/jobs/{id}/logs',
    operationId: 'jobLogs',
    summary: "The output of a job's tasks",
    tag: 'jobs',
    pathParams: uuidParam('job'),
    query: LogsQuery,
    replies: logReplies,
    errors: { 400: BAD_QUERY, 404: NO_JOB, 429: FOLLOWERS_CAPPED, 500: INTERNAL },
  },
  {
    method: 'get',
    path: '/v1/jobs/{id}/result',
    operationId: 'jobResult',
    summary: "A page of an aggregate job's result, or with `format=arrow` all of it",
    tag: 'jobs',
    pathParams: uuidParam('job'),
    query: ResultQuery,
    replies: {
      200: {
        description: 'JSON rows, or an Arrow IPC stream',
        content: { ...json(ResultPage), [ARROW_STREAM]: null },
      },
    },
    errors: {
      400: BAD_QUERY,
      404: NO_JOB,
      409: 'not an aggregate job, not succeeded yet, or its output store was deleted',
      413: 'the result object is larger than the Scheduler reads back (the message names the limit and the object)',
      500: INTERNAL,
      502: 'the object store is unreachable',
    },
  },
  {
    method: 'get',
    path: '/v1/tasks',
    operationId: 'listTasks',
    summary: 'Tasks across jobs, newest first, a page at a time',
    tag: 'tasks',
    query: ListTasksQuery,
    replies: { 200: { description: 'a page of tasks', content: json(TaskPage) } },
    errors: { 400: BAD_QUERY, 500: INTERNAL },
  },
  {
    method: 'get',
    path: '/v1/tasks/{id}',
    operationId: 'getTask',
    summary: 'One task with its history of attempts',
    tag: 'tasks',
    pathParams: uuidParam('task'),
    replies: { 200: { description: 'the task', content: json(TaskView) } },
    errors: { 404: 'no such task', 500: INTERNAL },
  },
  {
    method: 'get',
    path: '/v1/tasks/{id}/result',
    operationId: 'taskResult',
    summary: "A task's whole stored result, which views show only up to 64 KiB",
    tag: 'tasks',
    pathParams: uuidParam('task'),
    replies: { 200: { description: 'the result', content: json(TaskResult) } },
    errors: { 404: 'no such task', 500: INTERNAL },
  },
  {
    method: 'get',
    path: '/v1/tasks/{id}/logs',
    operationId: 'taskLogs',
    summary: 'The output of a task',
    tag: 'tasks',
    pathParams: uuidParam('task'),
    query: LogsQuery,
    replies: logReplies,
    errors: { 400: BAD_QUERY, 404: 'no such task', 429: FOLLOWERS_CAPPED, 500: INTERNAL },
  },
  {
    method: 'get',
    path: '/v1/agent/connect',
    operationId: 'agentConnect',
    summary:
      "The agents' WebSocket (frames: protocol/frames.ts); not for API clients, listed for completeness",
    tag: 'agents',
    auth: 'join',
    replies: { 101: { description: 'switching to the WebSocket protocol' } },
    errors: {
      400: 'not a WebSocket upgrade',
      401: 'no join token, or an invalid one',
      500: INTERNAL,
    },
  },
  {
    method: 'post',
    path: '/v1/object-stores',
    auth: 'admin',
    operationId: 'registerObjectStore',
    summary: 'Registers an S3/R2 store; the same registration again is idempotent',
    tag: 'object-stores',
    body: RegisterObjectStoreRequest,
    replies: {
      200: { description: 'already registered as given', content: json(StoreRegistration) },
      201: { description: 'registered', content: json(StoreRegistration) },
    },
    errors: {
      400: BAD_BODY,
      409: 'another store has this name',
      413: TOO_LARGE,
      500: INTERNAL,
    },
  },
  {
    method: 'get',
    path: '/v1/object-stores',
    auth: 'admin',
    operationId: 'listObjectStores',
    summary: 'Every store, without credentials',
    tag: 'object-stores',
    replies: { 200: { description: 'the stores', content: json(ObjectStoreList) } },
    errors: { 500: INTERNAL },
  },
  {
    method: 'get',
    path: '/v1/object-stores/{id}',
    auth: 'admin',
    operationId: 'getObjectStore',
    summary: 'One store',
    tag: 'object-stores',
    pathParams: storeParam,
    replies: { 200: { description: 'the store', content: json(ObjectStoreView) } },
    errors: { 404: 'no such store', 500: INTERNAL },
  },
  {
    method: 'delete',
    path: '/v1/object-stores/{id}',
    auth: 'admin',
    operationId: 'deleteObjectStore',
    summary: 'Deletes a store',
    tag: 'object-stores',
    pathParams: storeParam,
    replies: { 200: { description: 'the deleted store', content: json(ObjectStoreView) } },
    errors: { 404: 'no such store', 409: 'in use by unfinished jobs', 500: INTERNAL },
  },
  {
    method: 'get',
    path: '/v1/object-stores/{id}/objects',
    auth: 'admin',
    operationId: 'listObjects',
    summary: "A page of a store's objects under a prefix",
    tag: 'object-stores',
    pathParams: storeParam,
    query: ListObjectsQuery,
    replies: { 200: { description: 'the objects', content: json(ObjectPage) } },
    errors: {
      400: BAD_QUERY,
      404: 'no such store',
      500: INTERNAL,
      502: 'the object store is unreachable',
    },
  },
  ...applicationRoutes(),
  ...tenantRoutes(),
];

function tenantRoutes(): ApiRoute[] {
  const tenantParam = { id: z.string().describe("the tenant's id or name") };
  const admin = { tag: 'tenants', auth: 'admin' } as const;
  return [
    {
      ...admin,
      method: 'post',
      path: '/v1/tenants',
      operationId: 'createTenant',
      summary: 'Makes a tenant and its first token, shown only in this reply',
      body: CreateTenantRequest,
      replies: { 201: { description: 'made', content: json(CreatedTenantToken) } },
      errors: { 400: BAD_BODY, 409: 'a tenant has this name', 413: TOO_LARGE, 500: INTERNAL },
    },
    {
      ...admin,
      method: 'get',
      path: '/v1/tenants',
      operationId: 'listTenants',
      summary: 'Every tenant, with its tokens’ ids and last use (never the tokens)',
      replies: { 200: { description: 'the tenants', content: json(TenantList) } },
      errors: { 500: INTERNAL },
    },
    {
      ...admin,
      method: 'get',
      path: '/v1/tenants/{id}',
      operationId: 'getTenant',
      summary: 'One tenant',
      pathParams: tenantParam,
      replies: { 200: { description: 'the tenant', content: json(TenantView) } },
      errors: { 404: 'no such tenant', 500: INTERNAL },
    },
    {
      ...admin,
      method: 'patch',
      path: '/v1/tenants/{id}',
      operationId: 'updateTenant',
      summary:
        "Sets a tenant's weight, permissions (the fields given replace the tenant's) or queue quota",
      pathParams: tenantParam,
      body: UpdateTenantRequest,
      replies: { 200: { description: 'the tenant', content: json(TenantView) } },
      errors: { 400: BAD_BODY, 404: 'no such tenant', 413: TOO_LARGE, 500: INTERNAL },
    },
    {
      ...admin,
      method: 'post',
      path: '/v1/tenants/{id}/tokens',
      operationId: 'createTenantToken',
      summary: 'Another token for a tenant (rotation), shown only in this reply',
      pathParams: tenantParam,
      replies: { 201: { description: 'made', content: json(CreatedTenantToken) } },
      errors: { 404: 'no such tenant', 500: INTERNAL },
    },
    {
      ...admin,
      method: 'delete',
      path: '/v1/tenants/{id}/tokens/{tokenId}',
      operationId: 'revokeTenantToken',
      summary: 'Revokes a token at once',
      pathParams: { ...tenantParam, tokenId: z.string().describe("the token's id") },
      replies: { 200: { description: 'the tenant', content: json(TenantView) } },
      errors: { 404: 'no such tenant or token', 500: INTERNAL },
    },
    {
      method: 'get',
      path: '/v1/whoami',
      operationId: 'whoami',
      summary: 'Whom the token speaks for: the admin, or a tenant',
      tag: 'tenants',
      replies: { 200: { description: 'the principal', content: json(WhoAmI) } },
      errors: { 500: INTERNAL },
    },
  ];
}

/**
 * A tenant's applications and pipelines: tenant tokens write, other tenants' names are 404s; the
 * admin reads (GETs) a tenant's with `?tenant=ID`.
 */
function applicationRoutes(): ApiRoute[] {
  const appParam = { app: z.string().describe("the application's name") };
  const pipelineParams = { ...appParam, pipeline: z.string().describe("the pipeline's name") };
  const TENANT_ONLY = 'the admin token: applications belong to tenants';
  const NO_PIPELINE = 'no such application or pipeline in this tenant';
  const READ_400 = `${BAD_QUERY}, or the admin token without \`?tenant=ID\``;
  const READ_403 = 'a tenant token with `?tenant=` of another tenant';
  const NO_TENANT = 'with the admin token: no tenant with the `?tenant=` id';
  return [
    {
      method: 'get',
      path: '/api/applications',
      operationId: 'listApplications',
      summary: "The tenant's applications with their pipelines",
      tag: 'applications',
      query: ApplicationsQuery,
      replies: { 200: { description: 'the applications', content: json(ApplicationList) } },
      errors: { 400: READ_400, 403: READ_403, 404: NO_TENANT, 500: INTERNAL },
    },
    {
      method: 'get',
      path: '/api/applications/{app}',
      operationId: 'getApplication',
      summary: 'One application with its pipelines',
      tag: 'applications',
      pathParams: appParam,
      query: ApplicationsQuery,
      replies: { 200: { description: 'the application', content: json(ApplicationView) } },
      errors: {
        400: READ_400,
        403: READ_403,
        404: `no such application in this tenant; or ${NO_TENANT}`,
        500: INTERNAL,
      },
    },
    {
      method: 'get',
      path: '/api/applications/{app}/pipelines',
      operationId: 'listPipelines',
      summary: "An application's pipelines with their load figures",
      tag: 'applications',
      pathParams: appParam,
      query: ApplicationsQuery,
      replies: { 200: { description: 'the pipelines', content: json(PipelineList) } },
      errors: {
        400: READ_400,
        403: READ_403,
        404: `no such application in this tenant; or ${NO_TENANT}`,
        500: INTERNAL,
      },
    },
    {
      method: 'post',
      path: '/api/applications/{app}/pipelines',
      operationId: 'definePipeline',
      summary:
        'Creates a pipeline (and its application) or adds a version; inline, or `from` an object store',
      tag: 'applications',
      pathParams: appParam,
      body: CreatePipelineRequest,
      replies: {
        200: {
          description: 'a new version, or the same one when the definition did not change',
          content: json(PipelineView),
        },
        201: { description: 'created, as version 1', content: json(PipelineView) },
      },
      errors: {
        400: `${BAD_BODY}: a command that does not parse or uses shell syntax, an unknown store`,
        403: `${TENANT_ONLY}; or ${NOT_PERMITTED}`,
        413: TOO_LARGE,
        500: INTERNAL,
        502: 'the object store is unreachable, or has no such object',
      },
    },
    {
      method: 'get',
      path: '/api/applications/{app}/pipelines/{pipeline}',
      operationId: 'getPipeline',
      summary: 'A pipeline: its definition (of `version`, default the latest) and load figures',
      tag: 'applications',
      pathParams: pipelineParams,
      query: PipelineQuery,
      replies: { 200: { description: 'the pipeline', content: json(PipelineView) } },
      errors: {
        400: READ_400,
        403: READ_403,
        404: `${NO_PIPELINE}, or version; or ${NO_TENANT}`,
        500: INTERNAL,
      },
    },
    {
      method: 'delete',
      path: '/api/applications/{app}/pipelines/{pipeline}',
      operationId: 'deletePipeline',
      summary: 'Deletes a pipeline and its versions; refused while any of its tasks is unfinished',
      tag: 'applications',
      pathParams: pipelineParams,
      replies: { 200: { description: 'the deleted pipeline', content: json(PipelineView) } },
      errors: {
        403: TENANT_ONLY,
        404: NO_PIPELINE,
        409: 'it has unfinished tasks (their jobs are in `details.jobs`)',
        500: INTERNAL,
      },
    },
    {
      method: 'post',
      path: '/api/applications/{app}/pipelines/{pipeline}',
      operationId: 'submitPipelineTasks',
      summary:
        'Submits a task (a JSON object of data) or a batch (an array); `wait` holds the reply',
      tag: 'applications',
      pathParams: pipelineParams,
      query: SubmitJobQuery,
      body: SubmitPipelineRequest,
      replies: {
        202: {
          description: 'accepted as one job, with its tasks',
          content: json(PipelineSubmission),
        },
      },
      errors: {
        400: `${BAD_BODY}, or data without a variable a command uses`,
        403: `${TENANT_ONLY}; or ${NOT_PERMITTED}`,
        404: NO_PIPELINE,
        413: TOO_LARGE,
        429: QUEUE_FULL,
        500: INTERNAL,
      },
    },
    {
      method: 'get',
      path: '/api/applications/{app}/pipelines/{pipeline}/tasks/{id}',
      operationId: 'getPipelineTask',
      summary: 'One task of a pipeline: its steps, result, and why it waits',
      tag: 'applications',
      pathParams: { ...pipelineParams, ...uuidParam('task') },
      query: ApplicationsQuery,
      replies: { 200: { description: 'the task', content: json(PipelineTaskView) } },
      errors: {
        400: READ_400,
        403: READ_403,
        404: `${NO_PIPELINE}, or no such task of it; or ${NO_TENANT}`,
        500: INTERNAL,
      },
    },
  ];
}
