/** What the agent and its map threads say to each other (one task per thread at a time). */
import type { Assignment, LogFormat } from '../../protocol/index.ts';
import type { MapSpec, Progress, TaskOutcome } from '../task-outcome.ts';

export interface ThreadData {
  tempDir: string;
  storeTimeoutMs: number;
  /** The agent's `--log-format`, for the thread's own lines. */
  logFormat: LogFormat;
  /**
   * The agent's block cache (shared by its threads through the one directory), or none. `key`
   * (32 bytes: the agent's, kept in the cache dir by cache-key.ts; else one the pool makes and
   * holds in memory only) tags its blocks: every thread of the agent has the same.
   */
  cache: { dir: string; maxBytes: number; key?: Uint8Array } | null;
}

export type ToThread = { type: 'run'; assignment: Assignment; spec: MapSpec } | { type: 'abort' };

export type FromThread =
  | { type: 'started' }
  | { type: 'progress'; figures: Progress }
  | { type: 'done'; outcome: TaskOutcome };
