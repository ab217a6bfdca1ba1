/** Wires one agent together: task runner, outbox and connection; its drain and shutdown paths. */
import { mkdirSync } from 'node:fs';
import { PROTOCOL_VERSION } from '../protocol/index.ts';
import type { Isolation, TaskRef, UnsignedHello } from '../protocol/index.ts';
import type { AgentOptions } from './args.ts';
import { Connection } from './connection.ts';
import type { TaskFrame } from './connection.ts';
import { commandExecutor } from './executors/command.ts';
import { runEcho } from './executors/echo.ts';
import { pipelineExecutor } from './executors/pipeline.ts';
import { Sandbox } from './sandbox/sandbox.ts';
import { agentTempDir } from './temp-dir.ts';
import { loadCacheKey } from './storage/cache-key.ts';
import { createUrlStore, type OpenStore } from './storage/index.ts';
import type { HealthSnapshot } from './health-server.ts';
import type { AgentIdentity } from './identity.ts';
import type { Logger } from './logger.ts';
import { Outbox } from './outbox.ts';
import type { OutboxItem } from './coalesce.ts';
import { TaskRunner } from './task-runner.ts';
import { StreamHub } from './streams/hub.ts';
import { sweepInputRoots } from './inputs-root.ts';
import { MapThreadPool } from './map-threads/pool.ts';
import type { Executor, FinalSpec, ReduceSpec } from './task-outcome.ts';

export interface AgentConfig {
  options: AgentOptions;
  logger: Logger;
  agentVersion: string;
  identity: AgentIdentity;
  /** What command and pipeline tasks run in, as decided at start (sandbox.ts chooseIsolation). */
  isolation: Isolation;
  /** The control plane said `bye`: the caller shuts down and exits. */
  onBye(reason: string | undefined): void;
  /** The control plane refused this agent's key (it will not reconnect): the caller exits. */
  onRefused(code: string, message: string): void;
}

/** Most tasks a `hello` may list (the protocol's bound). */
const MAX_HELLO_RUNNING = 10_000;
/** After a drain, how long finished tasks' reports may wait for a connection before exiting. */
const DRAIN_REPORT_TIMEOUT_MS = 10_000;
/** After a kill, how long past the grace period to wait for processes to be reaped. */
const KILL_SLACK_MS = 2000;

export class Agent {
  readonly runner: TaskRunner;
  readonly outbox: Outbox;
  readonly connection: Connection;
  private readonly maps: MapThreadPool;
  private readonly streams: StreamHub;

  constructor(private readonly config: AgentConfig) {
    const { options, logger } = config;
    // The cache dir exists from the start, so the sandbox hides it even if it lies in a view.
    if (options.cache) mkdirSync(options.cache.dir, { recursive: true, mode: 0o700 });
    const sandbox = new Sandbox({
      isolation: config.isolation,
      workDir: options.workDir,
      network: options.taskNetwork,
      secrets: options.secretPaths,
      programs: Object.values(options.executors).filter((program) => program !== null),
    });
    // Tasks see the work dir at its real path, so the paths they are given are the ones they see.
    const workDir = sandbox.workDir;
    this.streams = new StreamHub(options.listenHost, (task, name) =>
      this.connection.notify({
        type: 'barrier',
        taskId: task.taskId,
        attempt: task.attempt,
        name,
      }),
    );
    this.outbox = new Outbox((items) => this.runner.delivered(items));
    const openStore: OpenStore = (store, urls) =>
      createUrlStore(store, urls, { timeoutMs: options.storeTimeoutMs });
    // The reduce and final steps need apache-arrow, ~0.2 CPU-s to load: loaded at the first such
    // task, not at every start (a restarted agent mostly runs commands, and maps on its threads).
    let combineSteps: Promise<{ reduce: Executor<ReduceSpec>; final: Executor<FinalSpec> }>;
    const combine = () =>
      (combineSteps ??= import('./executors/aggregate-reduce.ts').then((steps) => ({
        reduce: steps.reduceExecutor({ openStore }),
        final: steps.finalExecutor({ openStore }),
      })));
    const cache = options.cache && { ...options.cache, key: loadCacheKey(options.cache.dir) };
    this.maps = new MapThreadPool(
      {
        tempDir: agentTempDir(),
        storeTimeoutMs: options.storeTimeoutMs,
        cache,
        logFormat: options.logFormat,
      },
      options.slots,
    );
    this.runner = new TaskRunner({
      logger,
      report: (item) => this.outbox.push(item),
      progress: (task, figures) =>
        this.connection.notify({ type: 'progress', tasks: [{ ...task, ...figures }] }),
      executors: {
        echo: runEcho,
        'aggregate-map': this.maps.executor,
        'aggregate-reduce': async (task) => (await combine()).reduce(task),
        'aggregate-final': async (task) => (await combine()).final(task),
        command: commandExecutor({
          workDir,
          address: options.address,
          killGraceMs: options.killGraceMs,
          acceptsCommands: options.acceptsCommands,
          sandbox,
          streams: this.streams,
        }),
        pipeline: pipelineExecutor({
          workDir,
          address: options.address,
          killGraceMs: options.killGraceMs,
          executors: options.executors,
          acceptsCommands: options.acceptsCommands,
          sandbox,
        }),
      },
    });
    this.connection = new Connection({
      url: options.connectUrl,
      token: options.token,
      tls: { ca: options.ca, clientCert: options.clientCert },
      logger,
      outbox: this.outbox,
      identity: config.identity,
      hello: () => this.hello(),
      onFrame: (frame) => this.dispatch(frame),
      onRefusedTasks: (tasks, reason) => this.refuse(tasks, reason),
      onRefused: (code, message) => config.onRefused(code, message),
      // A barrier announced while disconnected (or whose release was lost) is announced again.
      onWelcome: () => this.streams.announceWaiting(),
    });
  }

  /** Starts taking records from peers, then connects (the hello says where records go). */
  async start(): Promise<void> {
    this.maps.warm();
    const swept = sweepInputRoots();
    if (swept > 0) this.config.logger.info('removed input folders of agents gone', { swept });
    await this.streams.server.listen(this.config.options.dataPort);
    this.connection.start();
  }

  snapshot(): HealthSnapshot {
    return {
      connected: this.connection.connected,
      workerId: this.connection.workerId,
      address: this.config.options.address,
      runningTasks: this.runner.runningCount,
      slots: this.config.options.slots,
      tasksCompleted: this.runner.completed,
      tasksFailed: this.runner.failed,
      runningByKind: this.runner.runningByKind(),
      reads: {
        rows: this.runner.reads.rows,
        storeBytes: this.runner.reads.storeBytes,
        cacheBytes: this.runner.reads.cacheBytes,
      },
    };
  }

  /** Refuses new tasks, lets running ones finish and their reports leave, then closes. */
  async drain(): Promise<void> {
    this.runner.drain();
    this.connection.notify({ type: 'draining' });
    await this.runner.whenSettled();
    const reported = await within(this.runner.whenIdle(), DRAIN_REPORT_TIMEOUT_MS);
    if (!reported) {
      this.config.logger.warn('exiting with task reports the control plane never received', {
        tasks: this.runner.heldTasks(),
      });
    }
    await this.connection.close('agent exiting');
  }

  /** Kills every task (SIGTERM, then SIGKILL after the grace period), waits for them, closes. */
  async shutdown(reason: string): Promise<void> {
    this.runner.abortAll(reason);
    await within(this.runner.whenSettled(), this.config.options.killGraceMs + KILL_SLACK_MS);
    await this.maps.close();
    await this.streams.server.close();
    await this.connection.close(reason);
  }

  private hello(): UnsignedHello {
    const { options, agentVersion } = this.config;
    return {
      type: 'hello',
      protocolVersion: PROTOCOL_VERSION,
      address: options.address,
      slots: options.slots,
      acceptsCommands: options.acceptsCommands,
      executors: Object.keys(options.executors),
      isolation: this.config.isolation,
      agentVersion,
      running: this.runner.heldTasks().slice(0, MAX_HELLO_RUNNING),
      draining: this.runner.isDraining,
      ...(this.streams.server.port ? { dataPort: this.streams.server.port } : {}),
    };
  }

  /**
   * Fails tasks the agent refused before running them (their frame was bad, or taking them
   * threw); a task the runner already holds reports its own end instead.
   */
  private refuse(tasks: readonly TaskRef[], reason: string): void {
    const held = new Set(this.runner.heldTasks().map((task) => task.taskId));
    for (const task of tasks) {
      if (held.has(task.taskId)) continue;
      this.config.logger.warn('refused a task', {
        task: task.taskId,
        attempt: task.attempt,
        reason,
      });
      this.outbox.push(refusal(task, reason));
    }
  }

  private dispatch(frame: TaskFrame): void {
    switch (frame.type) {
      case 'assign':
        // One task that cannot be taken fails alone; the frame's others and the socket carry on.
        for (const task of frame.tasks) {
          try {
            this.runner.assign([task]);
          } catch (error) {
            const reason = error instanceof Error ? error.message : String(error);
            this.config.logger.error('failed to take a task', { task: task.taskId, error });
            this.refuse([task], `the agent could not take the task: ${reason}`);
          }
        }
        return;
      case 'cancel':
        this.runner.cancel(frame.tasks, frame.reason);
        return;
      case 'release':
        this.streams.release(frame.tasks, frame.name);
        return;
      case 'drain':
        this.config.logger.info('the control plane asked this agent to drain');
        this.runner.drain();
        return;
      case 'bye':
        this.config.logger.info('the control plane said bye', { reason: frame.reason });
        this.config.onBye(frame.reason);
        return;
    }
  }
}

/** The end report of a task the agent never ran, as the runner would send it. */
function refusal(task: TaskRef, message: string): OutboxItem {
  return {
    kind: 'fail',
    task: {
      taskId: task.taskId,
      attempt: task.attempt,
      error: { type: 'refused', message: message.slice(0, 4096), nonRetryable: true },
    },
  };
}

/** Waits for `promise` at most `ms`; true when it settled in time. */
async function within(promise: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
