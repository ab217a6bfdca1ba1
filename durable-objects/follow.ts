/** Live log streams: the stored backlog, then new output as it arrives, as NDJSON until the end. */
import type { Core } from './core.ts';
import { jobKey, taskKey } from './watchers.ts';
import { readLogs, type LogScope } from './logs-store.ts';
import { scopeState } from './job-ops.ts';
import { SchedulerError } from './failure.ts';

const PAGE = 1000;

/** Answers a follow request with a streamed body; unknown tasks or jobs get a 404 body. */
export function followLogs(
  core: Core,
  scope: LogScope,
  after: number,
  owner: string | null,
): Response {
  let state: { state: string; done: boolean };
  try {
    state = scopeState(core, scope, owner);
  } catch (error) {
    if (error instanceof SchedulerError)
      return Response.json({ error: error.failure }, { status: error.failure.status });
    throw error;
  }
  const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
  const writer = writable.getWriter();
  const encoder = new TextEncoder();
  let stop = () => {};
  const follower = {
    push: (line: string) => {
      writer.write(encoder.encode(line + '\n')).catch(() => stop());
    },
    close: () => {
      writer.close().catch(() => {});
    },
  };
  // Backlog and subscription happen in one synchronous turn, so no entry falls between them.
  let cursor = after;
  for (;;) {
    const page = readLogs(core.sql, scope, cursor, PAGE);
    for (const entry of page) follower.push(JSON.stringify(entry));
    cursor = page.at(-1)?.seq ?? cursor;
    if (page.length < PAGE) break;
  }
  if (state.done) {
    follower.push(JSON.stringify({ end: true, state: state.state }));
    follower.close();
  } else {
    stop = core.watchers.follow(
      'taskId' in scope ? taskKey(scope.taskId) : jobKey(scope.jobId),
      follower,
    );
  }
  return new Response(readable, {
    headers: { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' },
  });
}
