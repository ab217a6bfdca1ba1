/** Bindings and settings of the control plane Worker. */
import type { Scheduler } from '../durable-objects/scheduler.ts';
import type { Principal } from './auth/principal.ts';

/** The Worker's own bindings; the Scheduler's settings (TM_LEASE_MS, ...) are read by the Scheduler
 *  from the same environment (durable-objects/config.ts). */
export interface Env {
  SCHEDULER: DurableObjectNamespace<Scheduler>;
  /** Cluster join token: agents holding it may connect and self-register (a Worker secret). */
  TM_JOIN_TOKEN?: string;
  /** Admin token: manages workers, object stores and tenants (a Worker secret). */
  TM_ADMIN_TOKEN?: string;
  /** Reads `GET /metrics` and nothing else, for a Prometheus server (a Worker secret; optional). */
  TM_METRICS_TOKEN?: string;
  /**
   * `true` when the Worker runs behind Cloudflare's edge, which sets `CF-Connecting-IP` itself:
   * wrong tokens are then counted per client address, else in one bucket (src/auth/middleware.ts).
   */
  TM_BEHIND_CLOUDFLARE?: string;
  /** How the Worker and the Scheduler write their log lines: `text` (default) or `json`. */
  TM_LOG_FORMAT?: string;
}

export type AppEnv = { Bindings: Env; Variables: { principal?: Principal } };
