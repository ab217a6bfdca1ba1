/** record-lines.ts: chunks in, whole lines out; the partial last line kept, and a too-long one refused. */
import { describe, expect, it } from 'vitest';
import {
  LineBlocks,
  lineSpans,
  linesOf,
  MAX_RECORD_BYTES,
  RecordError,
} from '../../worker-agent/streams/record-lines.ts';

const text = (buffer: Buffer) => buffer.toString();

describe('LineBlocks', () => {
  it('gives the complete lines of each chunk and keeps the rest for the next', () => {
    const lines = new LineBlocks();
    expect(text(lines.push(Buffer.from('a\nbb')))).toBe('a\n');
    expect(text(lines.push(Buffer.from('b')))).toBe('');
    expect(text(lines.push(Buffer.from('b\ncc\ndd')))).toBe('bbbb\ncc\n');
    expect(text(lines.rest())).toBe('dd\n');
    expect(text(lines.rest())).toBe('');
  });

  it('keeps the partial line as its own copy, not a view of a chunk that may be reused', () => {
    const lines = new LineBlocks();
    const chunk = Buffer.from('x\nyz');
    lines.push(chunk);
    chunk.fill(0x41);
    expect(text(lines.push(Buffer.from('\n')))).toBe('yz\n');
  });

  it('passes empty lines (end markers) through as they are', () => {
    const lines = new LineBlocks();
    expect(text(lines.push(Buffer.from('a\n\n')))).toBe('a\n\n');
    expect(text(lines.push(Buffer.from('\n')))).toBe('\n');
  });

  it('refuses a line longer than the limit, whether cut into chunks or not', () => {
    const lines = new LineBlocks();
    const half = Buffer.alloc(MAX_RECORD_BYTES / 2 + 1, 0x61);
    lines.push(half);
    expect(() => lines.push(half)).toThrow(RecordError);
    const whole = new LineBlocks();
    expect(() => whole.push(Buffer.concat([Buffer.from('ok\n'), half, half]))).toThrow(
      /longer than 1048576 bytes/,
    );
  });

  it('takes a line of exactly the limit', () => {
    const lines = new LineBlocks();
    lines.push(Buffer.alloc(MAX_RECORD_BYTES, 0x61));
    expect(lines.push(Buffer.from('\n')).length).toBe(MAX_RECORD_BYTES + 1);
  });
});

describe('linesOf and lineSpans', () => {
  const block = Buffer.from('\nab\n\nc\n\n\ndef\n');

  it('yields each line without its newline, skipping empty ones', () => {
    expect([...linesOf(block)].map(text)).toEqual(['ab', 'c', 'def']);
    expect([...linesOf(Buffer.alloc(0))]).toEqual([]);
  });

  it('gives the same lines as offsets, each end its newline', () => {
    const spans = lineSpans(block);
    expect(spans).toEqual([1, 3, 5, 6, 9, 12]);
    const lines = [];
    for (let i = 0; i < spans.length; i += 2)
      lines.push(text(block.subarray(spans[i], spans[i + 1])));
    expect(lines).toEqual([...linesOf(block)].map(text));
  });
});
