/**
 * The agent's WebSocket to the control plane: challenge → signed hello → welcome, heartbeats, the
 * outbox while welcomed; on any close it reconnects with backoff, forever, unless the control
 * plane refused the agent's key. Tasks never depend on it being up.
 */
import { rootCertificates } from 'node:tls';
import WebSocket from 'ws';
import type { ClientOptions, RawData } from 'ws';
import {
  MAX_WIRE_MESSAGE_BYTES,
  PROTOCOL_VERSION,
  ServerFrame,
  parseFrame,
  refusedAssignments,
} from '../protocol/index.ts';
import type {
  AgentFrame,
  TaskRef,
  ChallengeFrame,
  HelloFrame,
  UnsignedHello,
  WelcomeFrame,
} from '../protocol/index.ts';
import { Backoff } from './backoff.ts';
import type { AgentIdentity } from './identity.ts';
import type { Logger } from './logger.ts';
import type { Outbox } from './outbox.ts';
import { describeTlsFailure, type AgentTls } from './tls.ts';

/** Frames the connection does not handle itself; the agent acts on them. */
export type TaskFrame = Extract<
  ServerFrame,
  { type: 'assign' | 'cancel' | 'release' | 'drain' | 'bye' }
>;

export interface ConnectionOptions {
  /** ws(s)://…/v1/agent/connect */
  url: string;
  /** Sent as `Authorization: Bearer`; never logged. */
  token: string;
  /** For wss: a CA to trust besides the system's, a client certificate (default: neither). */
  tls?: AgentTls;
  logger: Logger;
  outbox: Outbox;
  /** Signs each hello for the connection's challenge; its fingerprint is logged while pending. */
  identity: Pick<AgentIdentity, 'publicKey' | 'signHello' | 'fingerprint'>;
  /** Built at every connect, so `running` lists what the agent holds at that moment. */
  hello(): UnsignedHello;
  onFrame(frame: TaskFrame): void;
  /**
   * The tasks of an `assign` frame the agent refused (too large, too deep, not matching the
   * schema, or its handling threw): the caller fails them; the socket stays open.
   */
  onRefusedTasks?(tasks: TaskRef[], reason: string): void;
  /** The control plane refused this agent's key: it stops reconnecting; the caller exits. */
  onRefused(code: string, message: string): void;
  /** Each time the control plane welcomes this agent (after a reconnect too). */
  onWelcome?(): void;
  /** Source of jitter; default Math.random. */
  random?: () => number;
}

const HANDSHAKE_TIMEOUT_MS = 10_000;
/** How long after the socket opens the control plane's challenge may take. */
const CHALLENGE_TIMEOUT_MS = 10_000;
const CLOSE_TIMEOUT_MS = 2000;
/**
 * Rejections that reconnecting cannot cure: the control plane holds another key for this worker,
 * or requires an isolation this agent does not have.
 */
const KEY_REJECTIONS: ReadonlySet<string> = new Set([
  'key_mismatch',
  'bad_signature',
  'isolation_required',
]);
/** A 403 before the upgrade is what a Cloudflare mTLS rule answers an agent without a certificate. */
const MTLS_HINT =
  'if the control plane requires a client certificate (Cloudflare mTLS), pass --client-cert and --client-key';

export class Connection {
  private socket: WebSocket | null = null;
  private welcomed = false;
  private helloSent = false;
  private stopped = false;
  private currentWorkerId: string | null = null;
  private heartbeat: NodeJS.Timeout | undefined;
  private retry: NodeJS.Timeout | undefined;
  private readonly backoff = new Backoff();

  constructor(private readonly options: ConnectionOptions) {}

  start(): void {
    this.stopped = false;
    this.connect();
  }

  /** True while a welcomed socket is open. */
  get connected(): boolean {
    return this.welcomed && this.socket?.readyState === WebSocket.OPEN;
  }

  get workerId(): string | null {
    return this.currentWorkerId;
  }

  /** Stops reconnecting; says `bye` if welcomed, closes, and resolves once the socket is closed. */
  /** Sends a frame that only matters now (it is not queued): dropped when not connected. */
  notify(frame: AgentFrame): void {
    const socket = this.socket;
    if (this.welcomed && socket?.readyState === WebSocket.OPEN) socket.send(JSON.stringify(frame));
  }

  close(reason: string): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retry);
    const socket = this.socket;
    if (socket === null || socket.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => socket.terminate(), CLOSE_TIMEOUT_MS);
      socket.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      if (socket.readyState === WebSocket.OPEN) {
        if (this.welcomed) socket.send(JSON.stringify({ type: 'bye', reason }));
        socket.close(1000, reason.slice(0, 120));
      } else {
        socket.terminate();
      }
    });
  }

  private connect(): void {
    const { logger, token, url } = this.options;
    logger.info('connecting to the control plane', { url });
    const socket = new WebSocket(url, {
      headers: { Authorization: `Bearer ${token}` },
      // Past MAX_FRAME_BYTES a frame is refused on its own (its tasks fail), not with the socket:
      // ws would close it with 1009 and every task on it would be lost.
      maxPayload: MAX_WIRE_MESSAGE_BYTES,
      handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
      perMessageDeflate: false,
      ...tlsOptions(this.options.tls),
    });
    this.socket = socket;
    this.helloSent = false;
    let refusedWith: number | null = null;
    let challengeTimer: NodeJS.Timeout | undefined;

    socket.on('open', () => {
      // The control plane speaks first: hello answers its challenge.
      challengeTimer = setTimeout(() => {
        if (this.socket !== socket || this.helloSent) return;
        logger.warn('the control plane sent no challenge; it may speak an older protocol', {
          waitedMs: CHALLENGE_TIMEOUT_MS,
        });
        socket.terminate();
      }, CHALLENGE_TIMEOUT_MS);
    });
    socket.on('message', (data, isBinary) => this.receiveSafely(socket, data, isBinary));
    socket.on('unexpected-response', (_request, response) => {
      // A 401 may be fixed by the operator (a new token in the file, a registered address): retry.
      refusedWith = response.statusCode ?? 0;
      logger.warn('the control plane refused the connection', {
        status: refusedWith,
        statusText: response.statusMessage,
        ...(refusedWith === 403 && !this.options.tls?.clientCert ? { hint: MTLS_HINT } : {}),
      });
      response.resume();
      socket.terminate();
    });
    socket.on('error', (error) => {
      if (refusedWith !== null) return;
      // A TLS problem needs the operator: say which, and how to fix it; the retries go on.
      const trouble = describeTlsFailure(error, this.options.tls?.ca !== undefined);
      if (trouble) logger.error(trouble, { code: (error as NodeJS.ErrnoException).code });
      else logger.warn('connection error', { error });
    });
    socket.on('close', (code, reason) => {
      clearTimeout(challengeTimer);
      this.closed(socket, code, reason.toString());
    });
  }

  /** Answers the challenge with a hello signed for its nonce and this agent's address. */
  private answer(socket: WebSocket, challenge: ChallengeFrame): void {
    const { logger, identity } = this.options;
    if (this.helloSent) {
      logger.warn('ignored a second challenge on this connection');
      return;
    }
    this.helloSent = true;
    const unsigned = this.options.hello();
    const hello: HelloFrame = {
      ...unsigned,
      publicKey: identity.publicKey,
      signature: identity.signHello(challenge.nonce, unsigned.address),
    };
    logger.info('connected; saying hello', { running: hello.running.length });
    socket.send(JSON.stringify(hello));
  }

  /**
   * Whatever a frame holds, handling it never throws out of the socket's listener (which would
   * end the process): a failure is logged, and the tasks of an `assign` are failed.
   */
  private receiveSafely(socket: WebSocket, data: RawData, isBinary: boolean): void {
    let raw: string | ArrayBuffer = new ArrayBuffer(0);
    try {
      raw = isBinary ? new ArrayBuffer(0) : rawText(data);
      this.receive(socket, raw);
    } catch (error) {
      this.options.logger.error('failed to handle a frame from the control plane', { error });
      try {
        this.refuse(raw, `the agent failed to handle the frame: ${errorMessage(error)}`);
      } catch (again) {
        this.options.logger.error('failed to refuse the tasks of a frame', { error: again });
      }
    }
  }

  private receive(socket: WebSocket, raw: string | ArrayBuffer): void {
    const parsed = parseFrame(raw, ServerFrame);
    if (!parsed.ok) {
      // A bad frame is never applied; the connection and the other tasks carry on.
      const failed = this.refuse(
        raw,
        `the agent refused the frame (${parsed.code}): ${parsed.message}`,
      );
      this.options.logger.warn('ignored a bad frame from the control plane', {
        code: parsed.code,
        reason: parsed.message,
        ...(failed > 0 ? { tasksFailed: failed } : {}),
      });
      return;
    }
    const frame = parsed.frame;
    switch (frame.type) {
      case 'challenge':
        return this.answer(socket, frame);
      case 'welcome':
        return this.welcome(socket, frame);
      case 'approved':
        this.options.logger.info('the admin approved this worker; taking tasks', {
          worker: this.currentWorkerId ?? undefined,
        });
        return;
      case 'reject':
        this.options.logger.error('the control plane rejected this agent', {
          code: frame.code,
          reason: frame.message,
        });
        if (KEY_REJECTIONS.has(frame.code)) {
          // Retrying with the same key cannot succeed: stop, and let the caller exit.
          this.stopped = true;
          clearTimeout(this.retry);
          this.options.onRefused(frame.code, frame.message);
        }
        socket.close(1000, 'rejected');
        return;
      case 'error':
        this.options.logger.warn('the control plane reported an error', {
          code: frame.code,
          reason: frame.message,
        });
        return;
      default:
        this.options.onFrame(frame);
    }
  }

  /** Fails the tasks of a refused `assign` frame, if it is one; returns how many. */
  private refuse(raw: string | ArrayBuffer, reason: string): number {
    const tasks = refusedAssignments(raw);
    if (tasks.length > 0) this.options.onRefusedTasks?.(tasks, reason);
    return tasks.length;
  }

  private welcome(socket: WebSocket, frame: WelcomeFrame): void {
    const { logger, outbox } = this.options;
    if (frame.protocolVersion !== PROTOCOL_VERSION) {
      logger.warn('the control plane speaks another protocol version', {
        ours: PROTOCOL_VERSION,
        theirs: frame.protocolVersion,
      });
    }
    this.welcomed = true;
    this.currentWorkerId = frame.workerId;
    this.backoff.reset();
    clearInterval(this.heartbeat);
    this.heartbeat = setInterval(() => {
      if (socket.readyState === WebSocket.OPEN) socket.send('{"type":"heartbeat"}');
    }, frame.heartbeatIntervalMs);
    logger.info('welcomed by the control plane', {
      worker: frame.workerId,
      heartbeatIntervalMs: frame.heartbeatIntervalMs,
    });
    // A new key: the worker gets no tasks until the admin approves it; the socket stays open.
    if (frame.pending)
      logger.warn(`waiting for approval: tm workers approve ${frame.workerId}`, {
        worker: frame.workerId,
        fingerprint: this.options.identity.fingerprint,
      });
    outbox.attach((text, done) => {
      if (socket.readyState !== WebSocket.OPEN) done(new Error('the socket is not open'));
      else socket.send(text, done);
    });
    this.options.onWelcome?.();
  }

  private closed(socket: WebSocket, code: number, reason: string): void {
    if (this.socket !== socket) return;
    this.socket = null;
    const wasWelcomed = this.welcomed;
    this.welcomed = false;
    clearInterval(this.heartbeat);
    if (wasWelcomed) this.options.outbox.detach();
    if (this.stopped) return;
    const delay = this.backoff.next((this.options.random ?? Math.random)());
    this.options.logger.warn('disconnected from the control plane; reconnecting', {
      code,
      reason,
      retryInMs: delay,
    });
    this.retry = setTimeout(() => this.connect(), delay);
  }
}

/** The socket's TLS settings: a given CA is trusted besides the system's, not instead of them. */
function tlsOptions(tls: AgentTls | undefined): ClientOptions {
  return {
    ...(tls?.ca ? { ca: [...rootCertificates, tls.ca] } : {}),
    ...(tls?.clientCert ? { cert: tls.clientCert.cert, key: tls.clientCert.key } : {}),
  };
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function rawText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  return Buffer.from(data).toString('utf8');
}
