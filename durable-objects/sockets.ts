/** Agent connections of a Scheduler: hibernatable WebSockets found again by their connection id. */
import { NONCE_BYTES, toBase64Url, type ServerFrame } from '../protocol/index.ts';

/** Who a connection authenticated as before `hello`: the cluster join token, or one worker's token. */
export type AgentAuth = { kind: 'cluster' } | { kind: 'worker'; workerId: string };

/** Survives hibernation with the socket (serializeAttachment). */
export interface Attachment {
  connId: string;
  auth: AgentAuth;
  workerId: string | null;
  /** The challenge sent at accept, until a `hello` answers it (each nonce is checked once). */
  nonce: string | null;
}

export class AgentSockets {
  private readonly cache = new Map<string, WebSocket>();

  constructor(private readonly ctx: DurableObjectState) {}

  /** Accepts an agent socket and sends it the challenge its `hello` must sign. */
  accept(socket: WebSocket, auth: AgentAuth): Attachment {
    const nonce = toBase64Url(crypto.getRandomValues(new Uint8Array(NONCE_BYTES)));
    const attachment: Attachment = { connId: crypto.randomUUID(), auth, workerId: null, nonce };
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
    try {
      socket?.close(code, reason);
    } catch {
      // Already closed.
    }
  }

  forget(socket: WebSocket): void {
    this.cache.delete(this.attachment(socket).connId);
  }
}
