/** Scheduler settings, read once from the Worker's environment with their defaults. */
import {
  DEFAULT_LOG_LIMIT_BYTES,
  DEFAULT_RETENTION_SECONDS,
  isLogFormat,
} from '../protocol/index.ts';
import { DEFAULT_MIN_PART_BYTES, DEFAULT_SPLIT_BYTES } from './aggregate-plan.ts';
import { DEFAULT_FRAME_RATE, type FrameRate } from './frame-rate.ts';
import { controlPlaneLogs, type Log, type LogEnv } from '../protocol/control-plane-log.ts';

export interface SchedulerConfig {
  /** How often agents send heartbeats (default 5 s). */
  heartbeatIntervalMs: number;
  /** A connected agent silent for this long loses its tasks (default 3 heartbeats). */
  leaseMs: number;
  /** Most tasks one worker holds at once, in-process probes included (default 512). */
  maxInflight: number;
  /** Stored output per task (default 1 MiB). */
  logLimitBytes: number;
  /** Most queued tasks the cluster holds; submissions past it get 429 (default 1,000,000). */
  maxQueuedTasks: number;
  /** Wrong tokens one client may send per window before it is refused with 429 (default 10). */
  authFailureLimit: number;
  /** The window of that limit (default 1 min). */
  authWindowMs: number;
  /** Parquet files larger than this are read by several map tasks (default 64 MiB). */
  splitBytes: number;
  /** A Parquet file cut to fill free map slots gets no part smaller than this (default 8 MiB). */
  minPartBytes: number;
  /** A socket that has not said hello this long after it was accepted is closed (default 10 s). */
  helloTimeoutMs: number;
  /** Frames one agent connection may send (durable-objects/frame-rate.ts). */
  frameRate: FrameRate;
  /** Agents whose tasks run in anything less are rejected (`isolation_required`); null: any. */
  requireIsolation: 'bwrap' | null;
  /** Finished jobs are deleted this long after they end (default 7 days; docs/storage.md). */
  retentionMs: number;
  /** Finished jobs kept at most; past it the oldest are deleted first (default 100,000). */
  maxFinishedJobs: number;
  /** Rows one retention transaction deletes at most, so it never holds up dispatch (default 500). */
  retentionBatchRows: number;
  /** Finished jobs are counted against the cap at most this often, once jobs ended (default 60 s). */
  capCheckMs: number;
}

export interface SchedulerEnv extends LogEnv {
  TM_HEARTBEAT_MS?: string;
  TM_LEASE_MS?: string;
  TM_MAX_INFLIGHT?: string;
  TM_LOG_LIMIT_BYTES?: string;
  TM_MAX_QUEUED_TASKS?: string;
  TM_AUTH_FAILURE_LIMIT?: string;
  TM_AUTH_WINDOW_MS?: string;
  TM_SPLIT_BYTES?: string;
  TM_MIN_PART_BYTES?: string;
  TM_HELLO_TIMEOUT_MS?: string;
  TM_AGENT_FRAME_BURST?: string;
  TM_AGENT_FRAMES_PER_SECOND?: string;
  /** `bwrap`: admit only agents that run command and pipeline tasks in bubblewrap. */
  TM_REQUIRE_ISOLATION?: string;
  TM_RETENTION_SECONDS?: string;
  TM_MAX_FINISHED_JOBS?: string;
  TM_RETENTION_BATCH_ROWS?: string;
  TM_RETENTION_CHECK_SECONDS?: string;
}

function positive(value: string | undefined, fallback: number): number {
  const parsed = Number(value);
  return Number.isFinite(parsed) && parsed > 0 ? Math.floor(parsed) : fallback;
}

export function readConfig(env: SchedulerEnv): SchedulerConfig {
  const log = controlPlaneLogs(env)('config');
  const format = env.TM_LOG_FORMAT;
  if (format && !isLogFormat(format))
    log.warn(`TM_LOG_FORMAT=${JSON.stringify(format)} is not text or json; writing text`);
  const heartbeatIntervalMs = positive(env.TM_HEARTBEAT_MS, 5000);
  return {
    heartbeatIntervalMs,
    leaseMs: positive(env.TM_LEASE_MS, heartbeatIntervalMs * 3),
    maxInflight: positive(env.TM_MAX_INFLIGHT, 512),
    logLimitBytes: positive(env.TM_LOG_LIMIT_BYTES, DEFAULT_LOG_LIMIT_BYTES),
    maxQueuedTasks: positive(env.TM_MAX_QUEUED_TASKS, 1_000_000),
    authFailureLimit: positive(env.TM_AUTH_FAILURE_LIMIT, 10),
    authWindowMs: positive(env.TM_AUTH_WINDOW_MS, 60_000),
    splitBytes: positive(env.TM_SPLIT_BYTES, DEFAULT_SPLIT_BYTES),
    minPartBytes: positive(env.TM_MIN_PART_BYTES, DEFAULT_MIN_PART_BYTES),
    helloTimeoutMs: positive(env.TM_HELLO_TIMEOUT_MS, 10_000),
    frameRate: {
      burst: positive(env.TM_AGENT_FRAME_BURST, DEFAULT_FRAME_RATE.burst),
      perSecond: positive(env.TM_AGENT_FRAMES_PER_SECOND, DEFAULT_FRAME_RATE.perSecond),
    },
    requireIsolation: requiredIsolation(env.TM_REQUIRE_ISOLATION, log),
    retentionMs: positive(env.TM_RETENTION_SECONDS, DEFAULT_RETENTION_SECONDS) * 1000,
    // A small job (its row, a task, an attempt) takes about 2 KB, so the cap's 100,000 jobs hold
    // ~200 MB, 2% of a Durable Object's 10 GB, and listing or sweeping them stays quick.
    maxFinishedJobs: positive(env.TM_MAX_FINISHED_JOBS, 100_000),
    // 500 deleted rows (with their index entries) take a few milliseconds in one transaction.
    retentionBatchRows: positive(env.TM_RETENTION_BATCH_ROWS, 2000),
    capCheckMs: positive(env.TM_RETENTION_CHECK_SECONDS, 60) * 1000,
  };
}

/** Unset or `none` requires nothing; `bwrap`, and any value mistyped, requires bwrap (fails closed). */
function requiredIsolation(value: string | undefined, log: Log): 'bwrap' | null {
  if (value === undefined || value === '' || value === 'none') return null;
  if (value !== 'bwrap')
    log.warn(`TM_REQUIRE_ISOLATION=${JSON.stringify(value)} is not bwrap or none; requiring bwrap`);
  return 'bwrap';
}
