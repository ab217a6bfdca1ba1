/**
 * A stream task's stdin, fed by the connections of its upstream instances: whole lines only, so
 * records of two senders never mix; each sender's end marker (an empty line) closes its channel,
 * and stdin ends when every channel has. A slow task pauses every sender (TCP does the rest), so
 * memory stays bounded by the sockets' buffers. A channel that closes without its marker means
 * its sender's agent or task is gone: the task fails as `peer`, and its group runs again.
 */
import type { Socket } from 'node:net';
import type { Writable } from 'node:stream';
import { LineBlocks, RecordError } from './record-lines.ts';
import type { ChannelSink } from './data-server.ts';

export class Inbox implements ChannelSink {
  private readonly sockets = new Set<Socket>();
  private ended = 0;
  private paused = false;
  /** The task ended well: channels are let go, and new ones too. */
  private released = false;

  constructor(
    readonly epoch: number,
    readonly secret: string,
    private readonly channels: number,
    private readonly stdin: Writable,
    private readonly fail: (message: string) => void,
  ) {
    stdin.on('error', () => undefined);
    stdin.on('drain', () => this.resume());
    if (channels === 0) stdin.end();
  }

  attach(socket: Socket, from: string, first: Buffer): void {
    if (this.released) return letGo(socket);
    this.sockets.add(socket);
    const lines = new LineBlocks();
    let done = false;
    const take = (chunk: Buffer) => {
      let block: Buffer;
      try {
        block = lines.push(chunk);
      } catch (error) {
        return this.fail(`records from ${from}: ${(error as RecordError).message}`);
      }
      if (block.length === 0) return;
      // The end marker is an empty line, and the last thing a sender writes.
      const marker = block.length === 1 || block[block.length - 2] === 0x0a;
      const records = marker ? block.subarray(0, block.length - 1) : block;
      if (records.length > 0 && !this.stdin.write(records)) this.pause();
      if (marker) {
        done = true;
        this.sockets.delete(socket);
        socket.destroy();
        if (++this.ended === this.channels) this.stdin.end();
      }
    };
    socket.on('close', () => {
      this.sockets.delete(socket);
      if (!done && !this.released)
        this.fail(`the records from ${from} stopped: its connection closed before its end`);
    });
    if (first.length > 0) take(first);
    socket.on('data', take);
    if (this.paused) socket.pause();
    else socket.resume();
  }

  /** The task ended well: each upstream still sending is told it is done here (letGo). */
  release(): void {
    this.released = true;
    for (const socket of this.sockets) letGo(socket);
    this.sockets.clear();
  }

  /** The task failed or was stopped: every channel is cut. */
  close(): void {
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
  }

  private pause(): void {
    this.paused = true;
    for (const socket of this.sockets) socket.pause();
  }

  private resume(): void {
    this.paused = false;
    for (const socket of this.sockets) socket.resume();
  }
}

/** How long a let-go channel may take to be closed by its sender. */
const LET_GO_MS = 10_000;

/**
 * Tells a sender this task reads no more (one byte back: `DONE`), half-closes, and reads and drops
 * what is still on its way, so the connection closes cleanly rather than being reset.
 */
function letGo(socket: Socket): void {
  socket.removeAllListeners('data');
  socket.on('data', () => undefined);
  socket.resume();
  socket.end(DONE);
  setTimeout(() => socket.destroy(), LET_GO_MS).unref();
}

/** What a receiver writes back when its task has ended well: the only bytes it ever sends. */
export const DONE = '\n';
