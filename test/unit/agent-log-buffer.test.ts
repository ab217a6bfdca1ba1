/** Log batching: merged per stream, flushed by time or size, split on UTF-8 boundaries, bounded. */
import { describe, expect, it } from 'vitest';
import { MAX_LOG_CHUNK_BYTES } from '../../protocol/index.ts';
import { LogBuffer, splitUtf8 } from '../../worker-agent/log-buffer.ts';
import type { LogChunk } from '../../worker-agent/task-outcome.ts';

describe('splitUtf8', () => {
  it('never splits a character and respects the byte bound', () => {
    const text = 'aé€😀'.repeat(1000);
    for (const max of [1, 2, 3, 5, 7, 100, 4096]) {
      const pieces = splitUtf8(text, max);
      expect(pieces.join('')).toBe(text);
      for (const piece of pieces) {
        expect(piece).not.toContain('\ufffd');
        // Only a single character wider than the bound may exceed it.
        if (max >= 4) expect(Buffer.byteLength(piece)).toBeLessThanOrEqual(max);
      }
    }
    expect(splitUtf8('', 10)).toEqual([]);
    expect(splitUtf8('short', 10)).toEqual(['short']);
  });
});

describe('LogBuffer', () => {
  it('merges consecutive writes per stream and keeps interleaving', () => {
    const emitted: LogChunk[][] = [];
    const buffer = new LogBuffer((chunks) => emitted.push(chunks), { flushMs: 10_000 });
    buffer.write('stdout', 'a');
    buffer.write('stdout', 'b');
    buffer.write('stderr', 'c');
    buffer.write('stdout', 'd');
    expect(emitted).toEqual([]);
    buffer.flush();
    expect(emitted).toEqual([
      [
        { stream: 'stdout', data: 'ab' },
        { stream: 'stderr', data: 'c' },
        { stream: 'stdout', data: 'd' },
      ],
    ]);
    buffer.flush();
    expect(emitted).toHaveLength(1);
  });

  it('flushes after the interval', async () => {
    const emitted: LogChunk[][] = [];
    const buffer = new LogBuffer((chunks) => emitted.push(chunks), { flushMs: 20 });
    buffer.write('stdout', 'x');
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(emitted).toEqual([[{ stream: 'stdout', data: 'x' }]]);
  });

  it('flushes at the size threshold and cuts chunks at MAX_LOG_CHUNK_BYTES', () => {
    const emitted: LogChunk[][] = [];
    const buffer = new LogBuffer((chunks) => emitted.push(chunks), {
      flushMs: 10_000,
      flushBytes: 200_000,
    });
    buffer.write('stdout', 'é'.repeat(100_000));
    expect(emitted).toHaveLength(1);
    const chunks = emitted[0] ?? [];
    expect(chunks.map((chunk) => chunk.data).join('')).toBe('é'.repeat(100_000));
    for (const chunk of chunks)
      expect(Buffer.byteLength(chunk.data)).toBeLessThanOrEqual(MAX_LOG_CHUNK_BYTES);
  });

  it('drops output past the limit and says so once', () => {
    const emitted: LogChunk[] = [];
    const buffer = new LogBuffer((chunks) => emitted.push(...chunks), {
      flushMs: 10_000,
      limitBytes: 10,
    });
    buffer.write('stdout', '12345678');
    buffer.write('stdout', 'abcdef');
    buffer.write('stderr', 'more');
    buffer.flush();
    expect(emitted).toEqual([
      { stream: 'stdout', data: '12345678ab' },
      { stream: 'system', data: expect.stringMatching(/output beyond 10 bytes was dropped/) },
    ]);
  });
});
