/**
 * The dashboard's live stream (`GET /v1/events`): server-sent events, each an overview snapshot
 * in the caller's scope. The snapshot is read every TICK_MS and sent only when it changed, with a
 * comment now and then so proxies keep an idle stream open; nothing is read while the reader has
 * not taken the last event (backpressure). Streams are capped per caller and in all.
 */
import type { Overview } from '../protocol/index.ts';
import { rateLimited, SchedulerError } from './failure.ts';

/** How often a stream reads the snapshot: at most one event per tick. */
export const TICK_MS = 2000;
/** A comment is sent after this long without an event. */
const KEEPALIVE_MS = 15_000;
/** Streams one caller (the admin, or one tenant) may hold at once. */
export const MAX_STREAMS_PER_CALLER = 8;
/** Streams the Scheduler serves at once. */
export const MAX_STREAMS = 64;

/** The open streams, counted per caller. */
export class EventStreams {
  private readonly byCaller = new Map<string, number>();
  private total = 0;

  /** Counts a new stream of `caller`, or throws the 429 of the cap it would pass. */
  open(caller: string): () => void {
    const held = this.byCaller.get(caller) ?? 0;
    if (held >= MAX_STREAMS_PER_CALLER)
      throw rateLimited(
        `this token holds ${MAX_STREAMS_PER_CALLER} event streams already, the most one caller may; close one first`,
        { limit: MAX_STREAMS_PER_CALLER },
      );
    if (this.total >= MAX_STREAMS)
      throw rateLimited(
        `the Scheduler serves ${MAX_STREAMS} event streams already, the most it serves at once; try again later`,
        { limit: MAX_STREAMS },
      );
    this.byCaller.set(caller, held + 1);
    this.total++;
    let closed = false;
    return () => {
      if (closed) return;
      closed = true;
      this.total--;
      const left = (this.byCaller.get(caller) ?? 1) - 1;
      if (left === 0) this.byCaller.delete(caller);
      else this.byCaller.set(caller, left);
    };
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** One event of the stream: `event: overview` and the snapshot as JSON. */
export const overviewEvent = (snapshot: string) => `event: overview\ndata: ${snapshot}\n\n`;

/** Answers `GET /v1/events` for `owner` (null: the admin); a capped caller gets a 429 body. */
export function eventStream(
  streams: EventStreams,
  owner: string | null,
  snapshot: () => Promise<Overview>,
): Response {
  let close: () => void;
  try {
    close = streams.open(owner ?? 'admin');
  } catch (error) {
    if (error instanceof SchedulerError)
      return Response.json({ error: error.failure }, { status: error.failure.status });
    throw error;
  }
  const encoder = new TextEncoder();
  let last: string | null = null;
  let sentAt = 0;
  let cancelled = false;
  const body = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (last !== null) await sleep(TICK_MS);
        while (!cancelled) {
          const now = Date.now();
          let next: string;
          try {
            next = JSON.stringify(await snapshot());
          } catch (error) {
            close();
            controller.error(error);
            return;
          }
          if (next !== last) {
            last = next;
            sentAt = now;
            controller.enqueue(encoder.encode(overviewEvent(next)));
            return;
          }
          if (now - sentAt >= KEEPALIVE_MS) {
            sentAt = now;
            controller.enqueue(encoder.encode(': keep-alive\n\n'));
            return;
          }
          await sleep(TICK_MS);
        }
      },
      cancel() {
        cancelled = true;
        close();
      },
    },
    { highWaterMark: 0 },
  );
  return new Response(body, {
    headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-store' },
  });
}
