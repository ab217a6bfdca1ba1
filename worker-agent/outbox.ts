/**
 * Reports that must arrive (`started`, `log`, `complete`, `fail`): queued in order while the agent
 * is disconnected, coalesced per tick, and confirmed only once written on an open socket.
 */
import { coalesce } from './coalesce.ts';
import type { OutboxItem } from './coalesce.ts';

/** Writes one frame; `done` gets an error when it was not written (socket closing or closed). */
export type SendFrame = (text: string, done: (error?: Error | null) => void) => void;

export class Outbox {
  private pending: OutboxItem[] = [];
  /** Frames handed to the socket and not yet confirmed, in send order. */
  private inflight = new Map<number, OutboxItem[]>();
  private nextFrame = 0;
  private send: SendFrame | null = null;
  /** Bumped on every attach/detach, so confirmations from an old socket are ignored. */
  private generation = 0;
  private scheduled = false;

  constructor(private readonly onDelivered: (items: OutboxItem[]) => void) {}

  /** Queues an item; everything queued in this tick goes out together on the next one. */
  push(item: OutboxItem): void {
    this.pending.push(item);
    this.schedule();
  }

  /** A welcomed socket is ready: send the backlog, in order. */
  attach(send: SendFrame): void {
    this.generation++;
    this.send = send;
    this.schedule();
  }

  /** The socket is gone: what was sent but not confirmed goes back to the front of the queue. */
  detach(): void {
    this.generation++;
    this.send = null;
    const unconfirmed = [...this.inflight.values()].flat();
    this.inflight.clear();
    this.pending = [...unconfirmed, ...this.pending];
  }

  /** Items not yet confirmed (queued or in flight). */
  get size(): number {
    let inflight = 0;
    for (const items of this.inflight.values()) inflight += items.length;
    return this.pending.length + inflight;
  }

  private schedule(): void {
    if (this.scheduled || this.send === null || this.pending.length === 0) return;
    this.scheduled = true;
    // setImmediate, not a microtask: every completion of this I/O turn joins one frame.
    setImmediate(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    const send = this.send;
    if (send === null || this.pending.length === 0) return;
    const items = this.pending;
    this.pending = [];
    const generation = this.generation;
    for (const { frame, items: carried } of coalesce(items)) {
      const id = this.nextFrame++;
      this.inflight.set(id, carried);
      try {
        send(JSON.stringify(frame), (error) => this.settle(generation, id, error));
      } catch (error) {
        this.settle(generation, id, error instanceof Error ? error : new Error(String(error)));
      }
    }
  }

  private settle(generation: number, id: number, error: Error | null | undefined): void {
    // A failed write stays in flight until detach() puts it back in the queue. (Writes report
    // success with undefined or null, depending on the stream.)
    if (generation !== this.generation || error) return;
    const items = this.inflight.get(id);
    if (items === undefined) return;
    this.inflight.delete(id);
    this.onDelivered(items);
  }
}
