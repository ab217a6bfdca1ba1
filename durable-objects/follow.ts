/**
 * Live log streams: the stored backlog, then new output as it arrives, as NDJSON until the end.
 * A follower holds a cursor, never lines: each time its reader wants more, one page is read from
 * SQLite after the cursor, so a slow reader is paced by its own reads (backpressure) and the
 * Scheduler holds one page per follower at most, however long the backlog or fast the output.
 * Followers are capped per job or task and in all; a stream its reader dropped is unsubscribed.
 */
import type { Core } from './core.ts';
import { jobKey, taskKey, type Follower } from './watchers.ts';
import { readLogs, type LogScope } from './task-logs.ts';
import { scopeState } from './job-ops.ts';
import { rateLimited, SchedulerError } from './failure.ts';

/** Entries read at once, and so the most one follower holds. */
const PAGE = 1000;
/** Followers one job or one task may have at once. */
export const MAX_FOLLOWERS_PER_SCOPE = 16;
/** Followers the Scheduler serves at once. */
export const MAX_FOLLOWERS = 256;

/** Answers a follow request with a streamed body; unknown tasks or jobs get a 404 body. */
export function followLogs(
  core: Core,
  scope: LogScope,
  after: number,
  owner: string | null,
): Response {
  const key = 'taskId' in scope ? taskKey(scope.taskId) : jobKey(scope.jobId);
  let initial: { state: string; done: boolean };
  try {
    initial = scopeState(core, scope, owner);
    checkCaps(core, scope, key);
  } catch (error) {
    if (error instanceof SchedulerError)
      return Response.json({ error: error.failure }, { status: error.failure.status });
    throw error;
  }
  const encoder = new TextEncoder();
  let cursor = after;
  /** The state it ended in, once it has (the end line follows the last page). */
  let ended: string | null = initial.done ? initial.state : null;
  let wake: (() => void) | null = null;
  let cancelled = false;
  const follower: Follower = {
    wake: () => wake?.(),
    end: (state) => {
      ended = state;
      wake?.();
    },
  };
  const stop = initial.done ? () => {} : core.watchers.follow(key, follower);
  const body = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        while (!cancelled) {
          // The page read and the end check share one synchronous turn: no entry falls between.
          const page = readLogs(core.sql, scope, cursor, PAGE);
          if (page.length > 0) {
            cursor = page.at(-1)?.seq ?? cursor;
            const lines = page.map((entry) => JSON.stringify(entry)).join('\n');
            controller.enqueue(encoder.encode(lines + '\n'));
            return;
          }
          if (ended !== null) {
            controller.enqueue(encoder.encode(JSON.stringify({ end: true, state: ended }) + '\n'));
            controller.close();
            stop();
            return;
          }
          await new Promise<void>((resolve) => (wake = resolve));
          wake = null;
        }
      },
      cancel() {
        cancelled = true;
        stop();
        wake?.();
      },
    },
    // One page waits for the reader at most; the next is read when it asks.
    { highWaterMark: 0 },
  );
  return new Response(body, {
    headers: { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' },
  });
}

/** A 429 when the job or task, or the Scheduler, has as many followers as it may. */
function checkCaps(core: Core, scope: LogScope, key: string): void {
  const what = 'taskId' in scope ? `task ${scope.taskId}` : `job ${scope.jobId}`;
  if (core.watchers.followers(key) >= MAX_FOLLOWERS_PER_SCOPE)
    throw rateLimited(
      `${what} has ${MAX_FOLLOWERS_PER_SCOPE} log followers already, the most one job or task may have; try again when one ends`,
      { limit: MAX_FOLLOWERS_PER_SCOPE },
    );
  if (core.watchers.followers() >= MAX_FOLLOWERS)
    throw rateLimited(
      `the Scheduler serves ${MAX_FOLLOWERS} log followers already, the most it serves at once; try again when one ends`,
      { limit: MAX_FOLLOWERS },
    );
}
