/**
 * A stream task's stdout, claimed the moment its process starts and held, paused, until its
 * router has connected to the downstream instances. Node resumes a child's stdio stream that no
 * one has read when the process exits (child_process's flushStdio), and its bytes are dropped: a
 * producer that exits before its router is ready would lose every record it wrote, and its
 * downstream would read an empty stream.
 */
import type { Readable } from 'node:stream';

export interface OutputReader {
  data(chunk: Buffer): void;
  end(): void;
}

export class HeldOutput {
  private readonly held: Buffer[] = [];
  private ended = false;
  private readonly keep = (chunk: Buffer) => {
    this.held.push(chunk);
    // One chunk at a time: the process blocks on its pipe, as it would on a slow reader.
    this.stream.pause();
  };
  private readonly end = () => (this.ended = true);

  constructor(readonly stream: Readable) {
    stream.on('data', this.keep);
    stream.once('end', this.end);
    stream.pause();
  }

  /**
   * Hands the stream to `reader`: what was held, then the rest as it comes. The stream stays
   * paused: the reader resumes it when it can take more.
   */
  release(reader: OutputReader): void {
    this.stream.off('data', this.keep);
    this.stream.off('end', this.end);
    for (const chunk of this.held.splice(0)) reader.data(chunk);
    if (this.ended) return reader.end();
    this.stream.on('data', (chunk: Buffer) => reader.data(chunk));
    this.stream.once('end', () => reader.end());
  }

  /** Nothing will read the records (no downstream could be reached): they are let go. */
  discard(): void {
    this.stream.off('data', this.keep);
    this.held.length = 0;
    this.stream.resume();
  }
}
