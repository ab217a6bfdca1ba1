/**
 * The Scheduler Durable Object: one per cluster. It only wires storage, sockets and the alarm to
 * the modules that hold the logic; every method is a thin edge that turns failures into outcomes.
 */
import { DurableObject } from 'cloudflare:workers';
import type {
  ApplicationView,
  CreatePipelineRequest,
  CreateTenantRequest,
  JobPage,
  JobView,
  LogPage,
  MetricFamily,
  Outcome,
  PipelineSubmission,
  PipelineTaskData,
  PipelineTaskView,
  PipelineView,
  RegisteredWorker,
  RegisterObjectStoreRequest,
  RegisterWorkerRequest,
  QueueReport,
  StorageReport,
  SubmitJobRequest,
  TaskPage,
  TaskResult,
  TaskView,
  Throughput,
  UpdateTenantRequest,
  WhoAmI,
  WorkerState,
  WorkerView,
} from '../protocol/index.ts';
import { createSql } from './db/sql.ts';
import { migrate } from './db/schema.ts';
import { readConfig, type SchedulerEnv } from './config.ts';
import { controlPlaneLogs } from '../protocol/control-plane-log.ts';
import { AgentSockets, type AgentAuth } from './sockets.ts';
import { Watchers } from './watchers.ts';
import type { Core } from './core.ts';
import { launchStageJobs } from './stage-job-launch.ts';
import { unlaunchedHolds } from './db/dataflow-stage-jobs.ts';
import { outcome } from './failure.ts';
import { newFairClock } from './fair-share.ts';
import { hashToken } from '../protocol/index.ts';
import { countConnected, workerOfTokenHash } from './db/workers.ts';
import { nextWake, runTimers } from './timers.ts';
import {
  approveWorker,
  deregisterWorker,
  getWorker,
  listWorkers,
  registerWorker,
} from './worker-ops.ts';
import {
  cancelJob,
  getJob,
  getTask,
  getTaskResult,
  jobTasks,
  listJobs,
  listTasks,
  logPage,
  submitJob,
  type JobListQuery,
} from './job-ops.ts';
import type { TaskListQuery, TaskPageQuery } from './task-views.ts';
import { onAgentMessage, onClose } from './agent-session.ts';
import { followLogs } from './follow.ts';
import { browseStore, getStore, listStoreViews, registerStore, removeStore } from './store-ops.ts';
import { resultArrow, resultPage } from './result-ops.ts';
import { ResultCache } from './result-cache.ts';
import type { LogScope } from './task-logs.ts';
import { authenticate } from './auth-check.ts';
import {
  createTenant,
  createTenantToken,
  getTenant,
  listTenants,
  revokeTenantToken,
  updateTenant,
} from './tenants.ts';
import {
  definePipeline,
  deletePipeline,
  getApplication,
  getPipeline,
  listApplications,
  listPipelines,
} from './pipeline-ops.ts';
import { getPipelineTask, submitPipelineTasks } from './pipeline-submit.ts';
import { runCleanups } from './aggregate-cleanup.ts';
import { nextRetentionAt, runRetention } from './retention.ts';
import { storageReport } from './storage-report.ts';
import { queueReport } from './queue-report.ts';
import { countRequests, metricsReport, type AnsweredRequests } from './metrics-report.ts';
import { throughput } from './throughput.ts';
import { overview } from './overview.ts';
import { EventStreams, eventStream } from './events.ts';

/** The alarm never comes sooner than this after a run, so nothing can make it spin. */
const MIN_ALARM_GAP_MS = 100;

export class Scheduler extends DurableObject<SchedulerEnv> {
  private readonly core: Core;
  /** When the alarm is set for, as far as this instance knows; null: not set. */
  private alarmAt: number | null = null;
  /** An earlier alarm asked for during the current event, written before the event ends. */
  private pendingAlarm: number | null = null;
  /** The cleanup run under way, if any. */
  private cleaning: Promise<void> | null = null;
  /** The dashboard's open event streams. */
  private readonly eventStreams = new EventStreams();

  constructor(ctx: DurableObjectState, env: SchedulerEnv) {
    super(ctx, env);
    const sql = createSql(ctx.storage);
    migrate(sql);
    this.core = {
      sql,
      sockets: new AgentSockets(ctx),
      watchers: new Watchers(),
      config: readConfig(env),
      log: controlPlaneLogs(env),
      fairClock: newFairClock(),
      results: new ResultCache(),
      now: () => Date.now(),
      wake: (at) => this.wake(at),
      launchStageJobs: (holds) => launchStageJobs(this.core, holds),
    };
    // Stages that started a job's launch when this object last stopped launch it now.
    launchStageJobs(this.core, unlaunchedHolds(sql));
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair('ping', 'pong'));
    // After a restart, agents that do not come back must still lose their tasks: keep the alarm set.
    void ctx.blockConcurrencyWhile(async () => {
      this.alarmAt = await ctx.storage.getAlarm();
      this.armAlarm();
      await this.flushAlarm();
    });
  }

  // ---- HTTP API (called over RPC by the Worker) ----

  /** Runs an API call as an outcome, then writes the alarm it may have asked for. */
  private async run<T>(body: () => T | Promise<T>): Promise<Outcome<T>> {
    const result = await outcome(body);
    await this.flushAlarm();
    return result;
  }

  registerWorker(request: RegisterWorkerRequest): Promise<Outcome<RegisteredWorker>> {
    return this.run(() => registerWorker(this.core, request));
  }
  listWorkers(state?: WorkerState): Promise<Outcome<WorkerView[]>> {
    return this.run(() => listWorkers(this.core, state));
  }
  getWorker(id: string): Promise<Outcome<WorkerView>> {
    return this.run(() => getWorker(this.core, id));
  }
  approveWorker(id: string): Promise<Outcome<WorkerView>> {
    return this.run(() => approveWorker(this.core, id));
  }
  deregisterWorker(id: string, force: boolean): Promise<Outcome<WorkerView>> {
    return this.run(() => deregisterWorker(this.core, id, force));
  }
  // Job, task, log and result calls take `owner`: the tenant the request acts for, whose rows
  // alone it may see, or null for the admin.
  submitJob(
    owner: string | null,
    request: SubmitJobRequest,
    waitSeconds = 0,
  ): Promise<Outcome<JobView>> {
    return this.run(() => submitJob(this.core, request, waitSeconds, owner));
  }
  listJobs(owner: string | null, query: JobListQuery): Promise<Outcome<JobPage>> {
    return this.run(() => listJobs(this.core, owner, query));
  }
  getJob(owner: string | null, id: string, taskLimit?: number): Promise<Outcome<JobView>> {
    return this.run(() => getJob(this.core, id, owner, taskLimit));
  }
  cancelJob(owner: string | null, id: string): Promise<Outcome<JobView>> {
    return this.run(() => cancelJob(this.core, id, owner));
  }
  jobTasks(
    owner: string | null,
    id: string,
    query: TaskPageQuery & { after?: number; stage?: string | undefined },
  ): Promise<Outcome<TaskPage>> {
    return this.run(() => jobTasks(this.core, id, owner, query));
  }
  listTasks(
    owner: string | null,
    query: TaskListQuery & { before?: number },
  ): Promise<Outcome<TaskPage>> {
    return this.run(() => listTasks(this.core, owner, query));
  }
  getTask(owner: string | null, id: string): Promise<Outcome<TaskView>> {
    return this.run(() => getTask(this.core, id, owner));
  }
  getTaskResult(owner: string | null, id: string): Promise<Outcome<TaskResult>> {
    return this.run(() => getTaskResult(this.core, id, owner));
  }
  readLogs(
    owner: string | null,
    scope: LogScope,
    after?: number,
    limit?: number,
  ): Promise<Outcome<LogPage>> {
    return this.run(() => logPage(this.core, scope, owner, after, limit));
  }
  registerStore(request: RegisterObjectStoreRequest) {
    return this.run(() => registerStore(this.core, request));
  }
  listStores() {
    return this.run(() => listStoreViews(this.core));
  }
  getStore(idOrName: string) {
    return this.run(() => getStore(this.core, idOrName));
  }
  deleteStore(idOrName: string) {
    return this.run(() => removeStore(this.core, idOrName));
  }
  browseStore(idOrName: string, prefix?: string, cursor?: string, limit?: number) {
    return this.run(() => browseStore(this.core, idOrName, prefix, cursor, limit));
  }
  resultPage(owner: string | null, jobId: string, offset?: number, limit?: number) {
    return this.run(() => resultPage(this.core, jobId, owner, offset, limit));
  }
  resultArrow(owner: string | null, jobId: string) {
    return this.run(() => resultArrow(this.core, jobId, owner));
  }

  // ---- tenants and API tokens (the Worker has checked the admin token) ----

  /** Called by the Worker's auth middleware through fetch (see src/auth/middleware.ts). */
  private authenticate(client: string, tokenHash: string): Promise<Outcome<WhoAmI>> {
    return this.run(() => authenticate(this.core, client, tokenHash));
  }
  createTenant(request: CreateTenantRequest) {
    return this.run(() => createTenant(this.core, request));
  }
  listTenants() {
    return this.run(() => listTenants(this.core));
  }
  getTenant(idOrName: string) {
    return this.run(() => getTenant(this.core, idOrName));
  }
  updateTenant(idOrName: string, request: UpdateTenantRequest) {
    return this.run(() => updateTenant(this.core, idOrName, request));
  }
  createTenantToken(idOrName: string) {
    return this.run(() => createTenantToken(this.core, idOrName));
  }
  revokeTenantToken(idOrName: string, tokenId: string) {
    return this.run(() => revokeTenantToken(this.core, idOrName, tokenId));
  }

  // Applications and pipelines: every call acts inside one tenant.
  listApplications(tenantId: string): Promise<Outcome<ApplicationView[]>> {
    return this.run(() => listApplications(this.core, tenantId));
  }
  getApplication(tenantId: string, app: string): Promise<Outcome<ApplicationView>> {
    return this.run(() => getApplication(this.core, tenantId, app));
  }
  definePipeline(
    tenantId: string,
    app: string,
    request: CreatePipelineRequest,
  ): Promise<Outcome<{ pipeline: PipelineView; created: boolean }>> {
    return this.run(() => definePipeline(this.core, tenantId, app, request));
  }
  listPipelines(tenantId: string, app: string): Promise<Outcome<PipelineView[]>> {
    return this.run(() => listPipelines(this.core, tenantId, app));
  }
  getPipeline(
    tenantId: string,
    app: string,
    name: string,
    version?: number,
  ): Promise<Outcome<PipelineView>> {
    return this.run(() => getPipeline(this.core, tenantId, app, name, version));
  }
  deletePipeline(tenantId: string, app: string, name: string): Promise<Outcome<PipelineView>> {
    return this.run(() => deletePipeline(this.core, tenantId, app, name));
  }
  submitPipelineTasks(
    tenantId: string,
    app: string,
    name: string,
    items: PipelineTaskData[],
    waitSeconds?: number,
  ): Promise<Outcome<PipelineSubmission>> {
    return this.run(() => submitPipelineTasks(this.core, tenantId, app, name, items, waitSeconds));
  }
  getPipelineTask(
    tenantId: string,
    app: string,
    name: string,
    taskId: string,
  ): Promise<Outcome<PipelineTaskView>> {
    return this.run(() => getPipelineTask(this.core, tenantId, app, name, taskId));
  }

  queueReport(): Promise<Outcome<QueueReport>> {
    return this.run(() => queueReport(this.core));
  }
  throughput(owner: string | null, minutes: number): Promise<Outcome<Throughput>> {
    return this.run(() => throughput(this.core, owner, minutes));
  }
  storageReport(): Promise<Outcome<StorageReport>> {
    return this.run(() => storageReport(this.core, this.ctx.storage.sql.databaseSize));
  }

  metrics(): Promise<Outcome<MetricFamily[]>> {
    return this.run(() => metricsReport(this.core, this.ctx.storage.sql.databaseSize));
  }
  countRequests(batch: readonly AnsweredRequests[]): Promise<Outcome<void>> {
    return this.run(() => countRequests(this.core, batch));
  }

  health(): { ok: true; connectedWorkers: number } {
    return { ok: true, connectedWorkers: countConnected(this.core.sql) };
  }

  // ---- streams and sockets (called with fetch by the Worker) ----

  override async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === '/agent') return this.acceptAgent(request);
    if (url.pathname === '/authenticate') {
      const client = url.searchParams.get('client') ?? 'unknown';
      return Response.json(await this.authenticate(client, url.searchParams.get('hash') ?? ''));
    }
    if (url.pathname === '/follow') {
      const taskId = url.searchParams.get('task');
      const jobId = url.searchParams.get('job');
      const scope: LogScope | null = taskId ? { taskId } : jobId ? { jobId } : null;
      // Only the Worker reaches this fetch, and it sets `owner` from the request's principal.
      const owner = url.searchParams.get('owner');
      const after = Number(url.searchParams.get('after') ?? 0);
      if (scope) return followLogs(this.core, scope, after, owner);
    }
    if (url.pathname === '/events') {
      // As with /follow, the Worker sets `owner` from the request's principal (absent: the admin).
      const owner = url.searchParams.get('owner');
      return eventStream(this.eventStreams, owner, () => overview(this.core, owner));
    }
    return new Response('not found', { status: 404 });
  }

  private async acceptAgent(request: Request): Promise<Response> {
    if (request.headers.get('upgrade')?.toLowerCase() !== 'websocket') {
      return new Response('expected a WebSocket upgrade', { status: 426 });
    }
    const auth = await this.agentAuth(request);
    if (!auth) return new Response('invalid join token', { status: 401 });
    const { 0: client, 1: server } = new WebSocketPair();
    const now = this.core.now();
    this.core.sockets.accept(server, auth, now);
    // The alarm closes it if no hello comes: a timer would not outlive hibernation.
    this.wake(now + this.core.config.helloTimeoutMs);
    await this.flushAlarm();
    return new Response(null, { status: 101, webSocket: client });
  }

  /** The Worker has checked the cluster token; a worker's own token is checked here. */
  private async agentAuth(request: Request): Promise<AgentAuth | null> {
    if (request.headers.get('x-tm-auth') === 'cluster') return { kind: 'cluster' };
    const token = request.headers.get('x-tm-worker-token');
    if (!token) return null;
    const hash = await hashToken(token);
    const workerId = workerOfTokenHash(this.core.sql, hash);
    return workerId ? { kind: 'worker', workerId } : null;
  }

  override async webSocketMessage(socket: WebSocket, message: string | ArrayBuffer) {
    await onAgentMessage(this.core, socket, message);
    await this.flushAlarm();
  }

  override async webSocketClose(socket: WebSocket, code: number, reason: string) {
    onClose(this.core, socket, `agent connection closed (${code}${reason ? `: ${reason}` : ''})`);
    await this.flushAlarm();
  }

  override async webSocketError(socket: WebSocket) {
    onClose(this.core, socket, 'agent connection failed');
    await this.flushAlarm();
  }

  // ---- alarm: leases, deadlines, backoffs ----

  override async alarm(): Promise<void> {
    this.alarmAt = null;
    runTimers(this.core);
    this.startCleanups();
    this.armAlarm();
    await this.flushAlarm();
  }

  /**
   * Deletes ended aggregations' intermediates, then what retention removes (retention.ts), beside
   * the alarm, not in it: a slow store must not hold back leases and deadlines. One run at a
   * time; what is left (or due later) re-arms the alarm when it ends, and stays in SQLite if the
   * object is evicted meanwhile.
   */
  private startCleanups(): void {
    if (this.cleaning) return;
    const log = this.core.log('scheduler');
    const warn = (what: string) => (error: unknown) => log.warn(`${what} failed`, { error });
    this.cleaning = runCleanups(this.core)
      .catch(warn('cleanup'))
      .then(() => runRetention(this.core))
      .catch(warn('retention'))
      .finally(() => {
        this.cleaning = null;
        this.armAlarm();
        void this.flushAlarm();
      });
  }

  /** Sets the alarm for the next thing that comes due, if anything does. */
  private armAlarm(): void {
    const now = this.core.now();
    const { config, sockets } = this.core;
    const hello = sockets.nextHelloDeadline(config.helloTimeoutMs);
    const next = [
      nextWake(this.core.sql, config.leaseMs, now),
      hello,
      nextRetentionAt(this.core),
    ].filter((at) => at !== null);
    if (next.length > 0) this.wake(Math.max(Math.min(...next), now + MIN_ALARM_GAP_MS));
  }

  private wake(at: number): void {
    if (this.alarmAt !== null && this.alarmAt <= at) return;
    this.alarmAt = at;
    this.pendingAlarm = at;
  }

  /**
   * Writes the alarm asked for during this event, awaited inside the event: a write left running
   * past the end of a socket event let the next frames be handled out of order under load.
   */
  private async flushAlarm(): Promise<void> {
    const at = this.pendingAlarm;
    if (at === null) return;
    this.pendingAlarm = null;
    await this.ctx.storage.setAlarm(at);
  }
}
