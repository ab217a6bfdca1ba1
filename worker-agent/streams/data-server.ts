/**
 * The agent's data server: upstream agents connect to it to feed its stream tasks' stdin. Each
 * connection names the task and the run it feeds and shows the run's secret; one that does not
 * match a task this agent holds is dropped. A connection may come before its task has started
 * here: it waits a while for it, unread (so its sender waits too).
 */
import { createServer, type Server, type Socket } from 'node:net';
import { MAX_HEADER_BYTES, parseHeader, sameSecret } from './channel-header.ts';

/** A stream task's stdin, taking the connections of its upstream instances. */
export interface ChannelSink {
  epoch: number;
  secret: string;
  attach(socket: Socket, from: string, first: Buffer): void;
}

const HEADER_TIMEOUT_MS = 10_000;
/** How long a connection waits for its task to start on this agent. */
const TASK_WAIT_MS = 30_000;

export class DataServer {
  private readonly server: Server;
  private readonly sinks = new Map<string, ChannelSink>();
  private readonly waiting = new Map<string, Set<() => void>>();

  constructor(private readonly host: string) {
    this.server = createServer((socket) => this.accept(socket));
  }

  /** Listens on an ephemeral port of the agent's host; resolves with the port. */
  listen(port = 0): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, this.host, () => {
        const address = this.server.address();
        resolve(typeof address === 'object' && address ? address.port : port);
      });
    });
  }

  get port(): number | null {
    const address = this.server.address();
    return typeof address === 'object' && address ? address.port : null;
  }

  /** Takes connections for `taskId` until the returned function is called. */
  register(taskId: string, sink: ChannelSink): () => void {
    this.sinks.set(taskId, sink);
    for (const wake of this.waiting.get(taskId) ?? []) wake();
    return () => {
      if (this.sinks.get(taskId) === sink) this.sinks.delete(taskId);
    };
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private accept(socket: Socket): void {
    socket.setNoDelay(true);
    socket.on('error', () => undefined);
    let buffered = Buffer.alloc(0);
    const timer = setTimeout(() => socket.destroy(), HEADER_TIMEOUT_MS);
    const onData = (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      const end = buffered.indexOf(0x0a);
      if (end < 0) {
        if (buffered.length > MAX_HEADER_BYTES) socket.destroy();
        return;
      }
      clearTimeout(timer);
      socket.off('data', onData);
      socket.pause();
      const header =
        end <= MAX_HEADER_BYTES ? parseHeader(buffered.subarray(0, end).toString()) : null;
      if (!header) return void socket.destroy();
      void this.handOver(socket, header, buffered.subarray(end + 1));
    };
    socket.on('data', onData);
  }

  private async handOver(
    socket: Socket,
    header: NonNullable<ReturnType<typeof parseHeader>>,
    first: Buffer,
  ): Promise<void> {
    const known = this.sinks.get(header.taskId);
    // A task's next run may connect before it has started here, while its last run is still held.
    const sink = known && known.epoch >= header.epoch ? known : await this.waitFor(header.taskId);
    if (!sink || sink.epoch !== header.epoch || !sameSecret(sink.secret, header.secret))
      return void socket.destroy();
    sink.attach(socket, header.from, first);
  }

  private waitFor(taskId: string): Promise<ChannelSink | undefined> {
    return new Promise((resolve) => {
      const wakers = this.waiting.get(taskId) ?? new Set();
      this.waiting.set(taskId, wakers);
      const done = () => {
        clearTimeout(timer);
        wakers.delete(done);
        if (wakers.size === 0) this.waiting.delete(taskId);
        resolve(this.sinks.get(taskId));
      };
      const timer = setTimeout(done, TASK_WAIT_MS);
      wakers.add(done);
    });
  }
}
