/** Agent connections of a Scheduler: hibernatable WebSockets found again by their connection id. */
import { NONCE_BYTES, toBase64Url, type ServerFrame } from '../protocol/index.ts';
import { chargeRefused, fullBucket, takeToken, type Bucket, type FrameRate } from './frame-rate.ts';

/** Who a connection authenticated as before `hello`: the cluster join token, or one worker's token. */
export type AgentAuth = { kind: 'cluster' } | { kind: 'worker'; workerId: string };

/** Survives hibernation with the socket (serializeAttachment). */
export interface Attachment {
  connId: string;
  auth: AgentAuth;
  workerId: string | null;
  /** The challenge sent at accept, until a `hello` answers it (each nonce is checked once). */
  nonce: string | null;
  /** When the socket was accepted (ms): one that has not said hello by its deadline is closed. */
  acceptedAt?: number;
}

export class AgentSockets {
  private readonly cache = new Map<string, WebSocket>();
  /**
   * Frame buckets by connection, in memory: a connection woken from hibernation starts full, as
   * it sent nothing while the object slept.
   */
  private readonly buckets = new Map<string, Bucket>();

  constructor(private readonly ctx: DurableObjectState) {}

  /** Accepts an agent socket and sends it the challenge its `hello` must sign. */
  accept(socket: WebSocket, auth: AgentAuth, now: number): Attachment {
    const nonce = toBase64Url(crypto.getRandomValues(new Uint8Array(NONCE_BYTES)));
    const attachment: Attachment = {
      connId: crypto.randomUUID(),
      auth,
      workerId: null,
      nonce,
      acceptedAt: now,
    };
    this.ctx.acceptWebSocket(socket);
    socket.serializeAttachment(attachment);
    this.cache.set(attachment.connId, socket);
    this.send(socket, { type: 'challenge', nonce });
    return attachment;
  }

  attachment(socket: WebSocket): Attachment {
    return socket.deserializeAttachment() as Attachment;
  }

  /** Takes the connection's challenge nonce: the first caller gets it, later ones get null. */
  takeNonce(socket: WebSocket): string | null {
    const attachment = this.attachment(socket);
    if (!attachment.nonce) return null;
    socket.serializeAttachment({ ...attachment, nonce: null });
    return attachment.nonce;
  }

  bind(socket: WebSocket, workerId: string): void {
    socket.serializeAttachment({ ...this.attachment(socket), workerId });
  }

  /** Takes a token for one frame on `connId`; false when it sends faster than `rate`. */
  admitFrame(connId: string, rate: FrameRate, now: number): boolean {
    let bucket = this.buckets.get(connId);
    if (!bucket) this.buckets.set(connId, (bucket = fullBucket(rate, now)));
    return takeToken(bucket, rate, now);
  }

  /** Charges a frame the Scheduler refused to its connection's bucket. */
  chargeRefused(connId: string): void {
    const bucket = this.buckets.get(connId);
    if (bucket) chargeRefused(bucket);
  }

  /** Open sockets that have not said hello within `timeoutMs` of being accepted. */
  withoutHello(timeoutMs: number, now: number): WebSocket[] {
    return this.awaitingHello().filter(
      (socket) => (this.attachment(socket).acceptedAt ?? 0) + timeoutMs <= now,
    );
  }

  /** When the next socket without hello is due to be closed, or null when none waits. */
  nextHelloDeadline(timeoutMs: number): number | null {
    let next: number | null = null;
    for (const socket of this.awaitingHello()) {
      const due = (this.attachment(socket).acceptedAt ?? 0) + timeoutMs;
      next = next === null ? due : Math.min(next, due);
    }
    return next;
  }

  /** Open sockets (not closing: a closed one no longer counts) that have not said hello yet. */
  private awaitingHello(): WebSocket[] {
    return this.ctx
      .getWebSockets()
      .filter(
        (socket) =>
          socket.readyState === WebSocket.READY_STATE_OPEN &&
          this.attachment(socket).workerId === null,
      );
  }

  find(connId: string): WebSocket | null {
    const cached = this.cache.get(connId);
    if (cached) return cached;
    for (const socket of this.ctx.getWebSockets()) {
      const attachment = this.attachment(socket);
      this.cache.set(attachment.connId, socket);
      if (attachment.connId === connId) return socket;
    }
    return null;
  }

  send(socket: WebSocket, frame: ServerFrame): void {
    try {
      socket.send(JSON.stringify(frame));
    } catch {
      // The socket is closing; its close handler requeues what it held.
    }
  }

  sendTo(connId: string, frame: ServerFrame): void {
    const socket = this.find(connId);
    if (socket) this.send(socket, frame);
  }

  close(connId: string, code: number, reason: string): void {
    const socket = this.find(connId);
    this.cache.delete(connId);
    this.buckets.delete(connId);
    try {
      socket?.close(code, reason);
    } catch {
      // Already closed.
    }
  }

  forget(socket: WebSocket): void {
    const { connId } = this.attachment(socket);
    this.cache.delete(connId);
    this.buckets.delete(connId);
  }
}
