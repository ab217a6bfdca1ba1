/**
 * A stream task's stdout, dealt to the instances of each downstream stage over data connections
 * to their agents: by key, or round-robin (route.ts). When any connection's buffer is full, the
 * task's stdout is paused until it drains, so a slow consumer slows this producer and nothing
 * piles up in memory. At the end, each connection gets its end marker (an empty line).
 */
import { connect, type Socket } from 'node:net';
import type { Readable } from 'node:stream';
import type { StreamPlan } from '../../protocol/index.ts';
import { encodeHeader } from './channel-header.ts';
import { HeldOutput } from './held-output.ts';
import { LineBlocks, lineSpans, RecordError } from './record-lines.ts';
import { gather, keyedInstance } from './route.ts';

const CONNECT_TRIES = 10;
const CONNECT_RETRY_MS = 300;
/** A try at connecting to a peer that has not connected by then fails (and is tried again). */
const CONNECT_TIMEOUT_MS = 5_000;

interface Output {
  stage: string;
  key: string | undefined;
  channels: Socket[];
  next: number;
}

export class Router {
  private readonly lines = new LineBlocks();
  /** Channels whose buffer is full: stdout is paused while any is. */
  private readonly full = new Set<Socket>();
  private ending = false;
  /** Channels whose receiver said its task has ended well: records for them are dropped. */
  private readonly done = new Set<Socket>();
  /** The task's stdout was read to its end: every record it wrote went out. */
  private drained = false;

  private readonly stdout: Readable;

  private constructor(
    private readonly outputs: Output[],
    held: HeldOutput,
    private readonly fail: (message: string) => void,
  ) {
    this.stdout = held.stream;
    for (const output of outputs)
      for (const socket of output.channels) this.watch(socket, output.stage);
    held.release({ data: (chunk) => this.take(chunk), end: () => (this.drained = true) });
    if (this.full.size === 0) this.stdout.resume();
  }

  /**
   * Claims the task's stdout at once (call it right after the spawn), connects to every
   * downstream instance, then starts reading the stdout (until then the task blocks on a full
   * pipe); rejects when a peer cannot be reached, and the task's records are let go.
   */
  static async start(
    plan: StreamPlan,
    from: string,
    stdout: Readable,
    fail: (message: string) => void,
  ): Promise<Router> {
    const held = new HeldOutput(stdout);
    try {
      return new Router(await connectOutputs(plan, from), held, fail);
    } catch (error) {
      held.discard();
      throw error;
    }
  }

  private watch(socket: Socket, stage: string): void {
    // A receiver writes only to say its task has ended well and reads no more (inbox.ts DONE).
    socket.on('data', () => this.done.add(socket));
    const broken = () => !this.ending && !this.done.has(socket);
    socket.on('error', (error) => {
      if (broken()) this.fail(`the connection to stage ${stage} failed: ${error.message}`);
    });
    socket.on('close', () => {
      if (broken()) this.fail(`the connection to stage ${stage} closed before the end`);
    });
  }

  /** After the task's stdout ended: the end markers, then the connections close. */
  finish(): Promise<void> {
    this.ending = true;
    if (!this.drained) this.fail("the task's stdout closed before its records were all read");
    // A last line without its newline is a record all the same.
    this.send(this.lines.rest());
    const all = this.outputs.flatMap((output) => output.channels);
    return Promise.all(
      all.map(
        (socket) =>
          new Promise<void>((resolve) => {
            if (socket.destroyed) return resolve();
            socket.end('\n', () => resolve());
            socket.once('close', () => resolve());
          }),
      ),
    ).then(() => undefined);
  }

  close(): void {
    for (const output of this.outputs) for (const socket of output.channels) socket.destroy();
  }

  private take(chunk: Buffer): void {
    try {
      this.send(this.lines.push(chunk));
    } catch (error) {
      if (!(error instanceof RecordError)) throw error;
      this.fail(error.message);
    }
  }

  /**
   * Deals a block of whole lines to the channels, one write per channel: every line is routed
   * before anything is written (a bad record fails the task with none of its block sent), and
   * each channel's lines are copied into one buffer of their own (a Buffer.concat of two parts
   * per line cost ~0.4 µs a record).
   */
  private send(block: Buffer): void {
    if (block.length === 0) return;
    const lines = lineSpans(block);
    if (lines.length === 0) return;
    const dealt = this.outputs.map((output) => this.deal(output, block, lines));
    this.outputs.forEach((output, o) => {
      const parts = gather(block, lines, dealt[o]!, output.channels.length);
      output.channels.forEach((socket, c) => {
        if (parts[c]!.length > 0) this.write(socket, parts[c]!);
      });
    });
  }

  /** Each line's channel (or EVERY), by key or round-robin. */
  private deal(output: Output, block: Buffer, lines: number[]): Int32Array {
    const n = output.channels.length;
    const to = new Int32Array(lines.length / 2);
    for (let i = 0; i < to.length; i++) {
      if (output.key === undefined) to[i] = output.next++ % n;
      else to[i] = keyedInstance(block.subarray(lines[2 * i]!, lines[2 * i + 1]!), output.key, n);
    }
    return to;
  }

  private write(socket: Socket, data: Buffer): void {
    if (this.done.has(socket) || socket.destroyed) return;
    if (socket.write(data) || this.full.has(socket)) return;
    // Stdout waits while any channel is full; a channel that closes instead frees it too.
    this.full.add(socket);
    if (this.full.size === 1) this.stdout.pause();
    const unblock = () => {
      socket.off('drain', unblock);
      socket.off('close', unblock);
      if (this.full.delete(socket) && this.full.size === 0) this.stdout.resume();
    };
    socket.on('drain', unblock);
    socket.on('close', unblock);
  }
}

/**
 * A channel to every instance of each downstream stage, its header sent; when any cannot be
 * reached, those that were are closed.
 */
async function connectOutputs(plan: StreamPlan, from: string): Promise<Output[]> {
  const header = (taskId: string) =>
    encodeHeader({ v: 1, taskId, epoch: plan.epoch, secret: plan.secret, from });
  const tries = plan.outputs.map((output) =>
    Promise.allSettled(output.peers.map((peer) => connectPeer(peer.address, header(peer.taskId)))),
  );
  const settled = await Promise.all(tries);
  const sockets = settled.map((results) =>
    results.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : [])),
  );
  const failed = settled.flat().find((result) => result.status === 'rejected');
  if (failed) {
    for (const socket of sockets.flat()) socket.destroy();
    throw failed.reason;
  }
  return plan.outputs.map((output, o) => ({
    key: output.key,
    next: 0,
    stage: output.stage,
    channels: sockets[o]!,
  }));
}

/** Connects to a peer's data server and sends the header, retrying while its agent comes up. */
async function connectPeer(address: string, header: string): Promise<Socket> {
  const split = address.lastIndexOf(':');
  const host = address.slice(0, split).replace(/^\[|\]$/g, '');
  const port = Number(address.slice(split + 1));
  for (let tries = 1; ; tries++) {
    try {
      return await new Promise<Socket>((resolve, reject) => {
        const socket = connect({ host, port }, () => {
          socket.off('error', reject);
          socket.setTimeout(0);
          socket.setNoDelay(true);
          socket.write(header);
          resolve(socket);
        });
        socket.once('error', reject);
        socket.setTimeout(CONNECT_TIMEOUT_MS, () =>
          socket.destroy(new Error(`no answer from ${address} in ${CONNECT_TIMEOUT_MS} ms`)),
        );
      });
    } catch (error) {
      if (tries >= CONNECT_TRIES) throw error;
      await new Promise((resolve) => setTimeout(resolve, CONNECT_RETRY_MS));
    }
  }
}
