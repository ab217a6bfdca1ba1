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
  records = 0;

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
      this.records += countLines(records);
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
      if (!done)
        this.fail(`the records from ${from} stopped: its connection closed before its end`);
    });
    if (first.length > 0) take(first);
    socket.on('data', take);
    if (this.paused) socket.pause();
    else socket.resume();
  }

  /** Stops taking records (the task ended): every channel is closed. */
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

export function countLines(block: Buffer): number {
  let n = 0;
  for (let i = block.indexOf(0x0a); i >= 0; i = block.indexOf(0x0a, i + 1)) n++;
  return n;
}
