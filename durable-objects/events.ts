/**
 * The dashboard's live stream (`GET /v1/events`): server-sent events, each an overview snapshot
 * in the caller's scope. The snapshot is read every TICK_MS and sent when it changed, else a
 * comment line: nothing is read while the reader has not taken the last event (backpressure),
 * and a stream whose reader went away is found at the next write, within a tick. A caller holds
 * MAX_STREAMS_PER_CALLER streams: a newer one closes its oldest (a reloaded tab's stream may not
 * have been found gone yet), so reloads never lock a caller out; past MAX_STREAMS in all, a 429.
 */
import type { Overview } from '../protocol/index.ts';
import { rateLimited, SchedulerError } from './failure.ts';

/** How often a stream reads the snapshot: at most one event per tick. */
export const TICK_MS = 2000;
/** Streams one caller (the admin, or one tenant) holds at once; a newer one closes its oldest. */
export const MAX_STREAMS_PER_CALLER = 8;
/** Streams the Scheduler serves at once. */
export const MAX_STREAMS = 64;

/** One open stream: how to close it from outside (a newer stream of its caller replaces it). */
export interface OpenStream {
  close(): void;
}

/** The open streams, per caller, oldest first. */
export class EventStreams {
  private readonly byCaller = new Map<string, Set<OpenStream>>();
  private total = 0;

  /**
   * Counts `stream` for `caller`, closing the caller's oldest when it holds the most it may;
   * throws the 429 when the Scheduler serves the most it may. Returns how to let it go.
   */
  open(caller: string, stream: OpenStream): () => void {
    const held = this.byCaller.get(caller) ?? new Set<OpenStream>();
    if (held.size >= MAX_STREAMS_PER_CALLER) [...held][0]?.close();
    if (this.total >= MAX_STREAMS)
      throw rateLimited(
        `the Scheduler serves ${MAX_STREAMS} event streams already, the most it serves at once; try again later`,
        { limit: MAX_STREAMS },
      );
    held.add(stream);
    this.byCaller.set(caller, held);
    this.total++;
    return () => {
      if (!held.delete(stream)) return;
      this.total--;
      if (held.size === 0 && this.byCaller.get(caller) === held) this.byCaller.delete(caller);
    };
  }

  /** Streams open now, all or one caller's. */
  count(caller?: string): number {
    return caller === undefined ? this.total : (this.byCaller.get(caller)?.size ?? 0);
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** One event of the stream: `event: overview` and the snapshot as JSON. */
export const overviewEvent = (snapshot: string) => `event: overview\ndata: ${snapshot}\n\n`;

/** Answers `GET /v1/events` for `owner` (null: the admin); past MAX_STREAMS, a 429 body. */
export function eventStream(
  streams: EventStreams,
  owner: string | null,
  snapshot: () => Promise<Overview>,
): Response {
  const encoder = new TextEncoder();
  let last: string | null = null;
  let closed = false;
  let controller: ReadableStreamDefaultController<Uint8Array> | null = null;
  let release = () => {};
  const stop = () => {
    closed = true;
    release();
  };
  try {
    release = streams.open(owner ?? 'admin', {
      close: () => {
        stop();
        controller?.close();
      },
    });
  } catch (error) {
    if (error instanceof SchedulerError)
      return Response.json({ error: error.failure }, { status: error.failure.status });
    throw error;
  }
  const body = new ReadableStream<Uint8Array>(
    {
      start(c) {
        controller = c;
      },
      async pull(c) {
        if (last !== null) await sleep(TICK_MS);
        if (closed) return;
        let next: string;
        try {
          next = JSON.stringify(await snapshot());
        } catch (error) {
          stop();
          c.error(error);
          return;
        }
        if (closed) return;
        c.enqueue(encoder.encode(next === last ? ': tick\n\n' : overviewEvent(next)));
        last = next;
      },
      cancel: stop,
    },
    { highWaterMark: 0 },
  );
  return new Response(body, {
    headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-store' },
  });
}
