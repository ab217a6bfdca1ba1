/**
 * Records as lines, pure: a chunk of bytes in, the complete lines it finishes out (as one block,
 * ready to write on), the partial last line kept for the next chunk.
 */

/** Longest record line: a task's longer line fails it, naming the limit. */
export const MAX_RECORD_BYTES = 1024 * 1024;
const NEWLINE = 0x0a;

export class LineBlocks {
  private partial: Buffer = Buffer.alloc(0);

  /** The complete lines of `chunk` and what came before it, newline-terminated; may be empty. */
  push(chunk: Buffer): Buffer {
    const last = chunk.lastIndexOf(NEWLINE);
    if (last < 0) {
      this.partial = Buffer.concat([this.partial, chunk]);
      this.checkRest();
      return Buffer.alloc(0);
    }
    const block =
      this.partial.length > 0
        ? Buffer.concat([this.partial, chunk.subarray(0, last + 1)])
        : chunk.subarray(0, last + 1);
    this.partial = Buffer.from(chunk.subarray(last + 1));
    this.checkRest();
    return block;
  }

  /** What came after the last newline, as a line of its own (empty if nothing did). */
  rest(): Buffer {
    const rest =
      this.partial.length > 0 ? Buffer.concat([this.partial, Buffer.from('\n')]) : this.partial;
    this.partial = Buffer.alloc(0);
    return rest;
  }

  private checkRest(): void {
    if (this.partial.length > MAX_RECORD_BYTES)
      throw new RecordError(`a record line is longer than ${MAX_RECORD_BYTES} bytes`);
  }
}

export class RecordError extends Error {}

/** Each line of a newline-terminated block, without its newline; empty lines skipped. */
export function* linesOf(block: Buffer): Generator<Buffer> {
  let start = 0;
  for (let i = block.indexOf(NEWLINE); i >= 0; i = block.indexOf(NEWLINE, start)) {
    if (i > start) yield block.subarray(start, i);
    start = i + 1;
  }
}

/**
 * Where each line of a newline-terminated block is, as [start, end, start, end, …] (end: its
 * newline's index); empty lines skipped. Offsets, not subarrays: ~0.1 µs a line less.
 */
export function lineSpans(block: Buffer): number[] {
  const spans: number[] = [];
  let start = 0;
  for (let i = block.indexOf(NEWLINE); i >= 0; i = block.indexOf(NEWLINE, start)) {
    if (i > start) spans.push(start, i);
    start = i + 1;
  }
  return spans;
}
