/**
 * The Scheduler Durable Object: one per cluster. It only wires storage, sockets and the alarm to
 * the modules that hold the logic; every method is a thin edge that turns failures into outcomes.
 */
import { DurableObject } from 'cloudflare:workers';
import type {
  JobState,
  JobView,
  LogPage,
  Outcome,
  RegisterObjectStoreRequest,
  RegisterWorkerRequest,
  RegisteredWorker,
  SubmitJobRequest,
  TaskState,
  TaskView,
  WorkerState,
  WorkerView,
} from '../protocol/index.ts';
import { createSql } from './sql.ts';
import { migrate } from './schema.ts';
import { readConfig, type SchedulerEnv } from './config.ts';
import { AgentSockets, type AgentAuth } from './sockets.ts';
import { Watchers } from './watchers.ts';
import type { Core } from './core.ts';
import { outcome } from './failure.ts';
import { hashToken } from './tokens.ts';
import { countConnected } from './workers-store.ts';
import { nextWake, runTimers } from './timers.ts';
import { deregisterWorker, getWorker, listWorkers, registerWorker } from './worker-ops.ts';
import { cancelJob, getJob, getTask, listJobs, listTasks, logPage, submitJob } from './job-ops.ts';
import { onAgentMessage, onClose } from './agent-session.ts';
import { followLogs } from './follow.ts';
import { browseStore, getStore, listStoreViews, registerStore, removeStore } from './store-ops.ts';
import { resultArrow, resultPage } from './result-ops.ts';
import type { LogScope } from './logs-store.ts';

/** The alarm never comes sooner than this after a run, so nothing can make it spin. */
const MIN_ALARM_GAP_MS = 100;

export class Scheduler extends DurableObject<SchedulerEnv> {
  private readonly core: Core;
  /** When the alarm is set for, as far as this instance knows; null: not set. */
  private alarmAt: number | null = null;

  constructor(ctx: DurableObjectState, env: SchedulerEnv) {
    super(ctx, env);
    const sql = createSql(ctx.storage);
    migrate(sql);
    this.core = {
      sql,
      sockets: new AgentSockets(ctx),
      watchers: new Watchers(),
      config: readConfig(env),
      now: () => Date.now(),
      wake: (at) => this.wake(at),
    };
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair('ping', 'pong'));
    // After a restart, agents that do not come back must still lose their tasks: keep the alarm set.
    void ctx.blockConcurrencyWhile(async () => {
      this.alarmAt = await ctx.storage.getAlarm();
      this.armAlarm();
    });
  }

  // ---- HTTP API (called over RPC by the Worker) ----

  registerWorker(request: RegisterWorkerRequest): Promise<Outcome<RegisteredWorker>> {
    return outcome(() => registerWorker(this.core, request));
  }
  listWorkers(state?: WorkerState): Promise<Outcome<WorkerView[]>> {
    return outcome(() => listWorkers(this.core, state));
  }
  getWorker(id: string): Promise<Outcome<WorkerView>> {
    return outcome(() => getWorker(this.core, id));
  }
  deregisterWorker(id: string, force: boolean): Promise<Outcome<WorkerView>> {
    return outcome(() => deregisterWorker(this.core, id, force));
  }
  submitJob(request: SubmitJobRequest, waitSeconds?: number): Promise<Outcome<JobView>> {
    return outcome(() => submitJob(this.core, request, waitSeconds));
  }
  listJobs(state?: JobState, limit?: number): Promise<Outcome<JobView[]>> {
    return outcome(() => listJobs(this.core, state, limit));
  }
  getJob(id: string, taskLimit?: number): Promise<Outcome<JobView>> {
    return outcome(() => getJob(this.core, id, taskLimit));
  }
  cancelJob(id: string): Promise<Outcome<JobView>> {
    return outcome(() => cancelJob(this.core, id));
  }
  listTasks(state?: TaskState, limit?: number): Promise<Outcome<TaskView[]>> {
    return outcome(() => listTasks(this.core, state, limit));
  }
  getTask(id: string): Promise<Outcome<TaskView>> {
    return outcome(() => getTask(this.core, id));
  }
  readLogs(scope: LogScope, after?: number, limit?: number): Promise<Outcome<LogPage>> {
    return outcome(() => logPage(this.core, scope, after, limit));
  }
  registerStore(request: RegisterObjectStoreRequest) {
    return outcome(() => registerStore(this.core, request));
  }
  listStores() {
    return outcome(() => listStoreViews(this.core));
  }
  getStore(idOrName: string) {
    return outcome(() => getStore(this.core, idOrName));
  }
  deleteStore(idOrName: string) {
    return outcome(() => removeStore(this.core, idOrName));
  }
  browseStore(idOrName: string, prefix?: string, cursor?: string, limit?: number) {
    return outcome(() => browseStore(this.core, idOrName, prefix, cursor, limit));
  }
  resultPage(jobId: string, offset?: number, limit?: number) {
    return outcome(() => resultPage(this.core, jobId, offset, limit));
  }
  resultArrow(jobId: string) {
    return outcome(() => resultArrow(this.core, jobId));
  }
  health(): { ok: true; connectedWorkers: number } {
    return { ok: true, connectedWorkers: countConnected(this.core.sql) };
  }

  // ---- streams and sockets (called with fetch by the Worker) ----

  override async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === '/agent') return this.acceptAgent(request);
    if (url.pathname === '/follow') {
      const taskId = url.searchParams.get('task');
      const jobId = url.searchParams.get('job');
      const scope: LogScope | null = taskId ? { taskId } : jobId ? { jobId } : null;
      if (scope) return followLogs(this.core, scope, Number(url.searchParams.get('after') ?? 0));
    }
    return new Response('not found', { status: 404 });
  }

  private async acceptAgent(request: Request): Promise<Response> {
    if (request.headers.get('upgrade')?.toLowerCase() !== 'websocket') {
      return new Response('expected a WebSocket upgrade', { status: 426 });
    }
    const auth = await this.authenticate(request);
    if (!auth) return new Response('invalid join token', { status: 401 });
    const { 0: client, 1: server } = new WebSocketPair();
    this.core.sockets.accept(server, auth);
    return new Response(null, { status: 101, webSocket: client });
  }

  /** The Worker has checked the cluster token; a worker's own token is checked here. */
  private async authenticate(request: Request): Promise<AgentAuth | null> {
    if (request.headers.get('x-tm-auth') === 'cluster') return { kind: 'cluster' };
    const token = request.headers.get('x-tm-worker-token');
    if (!token) return null;
    const hash = await hashToken(token);
    const row = this.core.sql.first<{ id: string }>(
      `SELECT id FROM workers WHERE token_hash = ? AND state != 'gone'`,
      hash,
    );
    return row ? { kind: 'worker', workerId: row.id } : null;
  }

  override webSocketMessage(socket: WebSocket, message: string | ArrayBuffer): void {
    onAgentMessage(this.core, socket, message);
  }

  override webSocketClose(socket: WebSocket, code: number, reason: string): void {
    onClose(this.core, socket, `agent connection closed (${code}${reason ? `: ${reason}` : ''})`);
  }

  override webSocketError(socket: WebSocket): void {
    onClose(this.core, socket, 'agent connection failed');
  }

  // ---- alarm: leases, deadlines, backoffs ----

  override async alarm(): Promise<void> {
    this.alarmAt = null;
    runTimers(this.core);
    this.armAlarm();
  }

  /** Sets the alarm for the next thing that comes due, if anything does. */
  private armAlarm(): void {
    const now = this.core.now();
    const next = nextWake(this.core.sql, this.core.config.leaseMs, now);
    if (next !== null) this.wake(Math.max(next, now + MIN_ALARM_GAP_MS));
  }

  private wake(at: number): void {
    if (this.alarmAt !== null && this.alarmAt <= at) return;
    this.alarmAt = at;
    // Un-awaited on purpose: the output gate holds replies until the write is durable.
    void this.ctx.storage.setAlarm(at);
  }
}
