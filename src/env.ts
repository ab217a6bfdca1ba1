/** Bindings and settings of the control plane Worker. */
import type { Scheduler } from '../durable-objects/scheduler.ts';
import type { SchedulerEnv } from '../durable-objects/config.ts';

export interface Env extends SchedulerEnv {
  SCHEDULER: DurableObjectNamespace<Scheduler>;
  /** Cluster join token: agents holding it may connect and self-register (a Worker secret). */
  TM_JOIN_TOKEN?: string;
}

export type AppEnv = { Bindings: Env };
