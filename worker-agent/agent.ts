/** Wires one agent together: task runner, outbox and connection; its drain and shutdown paths. */
import { PROTOCOL_VERSION } from '../protocol/index.ts';
import type { UnsignedHello } from '../protocol/index.ts';
import type { AgentOptions } from './args.ts';
import { Connection } from './connection.ts';
import type { TaskFrame } from './connection.ts';
import { commandExecutor } from './executors/command.ts';
import { runEcho } from './executors/echo.ts';
import { finalExecutor, reduceExecutor } from './executors/aggregate-reduce.ts';
import { pipelineExecutor } from './executors/pipeline.ts';
import { agentTempDir } from './temp-dir.ts';
import { clientTimeouts, createObjectStore, S3Clients, type OpenStore } from './storage/index.ts';
import type { HealthSnapshot } from './health-server.ts';
import type { AgentIdentity } from './identity.ts';
import type { Logger } from './logger.ts';
import { Outbox } from './outbox.ts';
import { TaskRunner } from './task-runner.ts';
import { MapThreadPool } from './map-threads/pool.ts';

export interface AgentConfig {
  options: AgentOptions;
  logger: Logger;
  agentVersion: string;
  identity: AgentIdentity;
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
  /** The reduce and final steps' S3 clients (map threads keep their own). */
  private readonly clients: S3Clients;

  constructor(private readonly config: AgentConfig) {
    const { options, logger } = config;
    this.outbox = new Outbox((items) => this.runner.delivered(items));
    this.clients = new S3Clients(clientTimeouts(options.storeTimeoutMs));
    const openStore: OpenStore = (access) => createObjectStore(access, { clients: this.clients });
    this.maps = new MapThreadPool(
      { tempDir: agentTempDir(), storeTimeoutMs: options.storeTimeoutMs, cache: options.cache },
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
        'aggregate-reduce': reduceExecutor({ openStore }),
        'aggregate-final': finalExecutor({ openStore }),
        command: commandExecutor({
          workDir: options.workDir,
          address: options.address,
          killGraceMs: options.killGraceMs,
          acceptsCommands: options.acceptsCommands,
        }),
        pipeline: pipelineExecutor({
          workDir: options.workDir,
          address: options.address,
          killGraceMs: options.killGraceMs,
          executors: options.executors,
          acceptsCommands: options.acceptsCommands,
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
      onRefused: (code, message) => config.onRefused(code, message),
    });
  }

  start(): void {
    this.maps.warm();
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
    };
  }

  /** Refuses new tasks, lets running ones finish and their reports leave, then closes. */
  async drain(): Promise<void> {
    this.runner.drain();
    this.connection.notify({ type: 'draining' });
    await this.runner.whenSettled();
    this.clients.close();
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
    this.clients.close();
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
      agentVersion,
      running: this.runner.heldTasks().slice(0, MAX_HELLO_RUNNING),
      draining: this.runner.isDraining,
    };
  }

  private dispatch(frame: TaskFrame): void {
    switch (frame.type) {
      case 'assign':
        this.runner.assign(frame.tasks);
        return;
      case 'cancel':
        this.runner.cancel(frame.tasks, frame.reason);
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
