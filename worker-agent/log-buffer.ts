/** Batches a task's output into log chunks: flushed every ~50 ms or 32 KiB, bounded in total. */
import { MAX_LOG_CHUNK_BYTES } from '../protocol/index.ts';
import type { LogChunk } from './task-outcome.ts';
import type { LogStream } from '../protocol/index.ts';

export const LOG_FLUSH_MS = 50;
export const LOG_FLUSH_BYTES = 32 * 1024;
/**
 * Most output one task forwards. The control plane stores less by default (1 MiB, configurable);
 * this bound only keeps a runaway task from filling the agent's memory while it is disconnected.
 */
export const AGENT_LOG_LIMIT_BYTES = 16 * 1024 * 1024;

export interface LogBufferOptions {
  flushMs?: number;
  flushBytes?: number;
  limitBytes?: number;
}

export class LogBuffer {
  private chunks: LogChunk[] = [];
  private buffered = 0;
  private total = 0;
  private truncated = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly flushMs: number;
  private readonly flushBytes: number;
  private readonly limitBytes: number;

  constructor(
    private readonly emit: (chunks: LogChunk[]) => void,
    options: LogBufferOptions = {},
  ) {
    this.flushMs = options.flushMs ?? LOG_FLUSH_MS;
    this.flushBytes = options.flushBytes ?? LOG_FLUSH_BYTES;
    this.limitBytes = options.limitBytes ?? AGENT_LOG_LIMIT_BYTES;
  }

  write(stream: LogStream, text: string): void {
    if (text === '' || this.truncated) return;
    let size = Buffer.byteLength(text);
    if (this.total + size > this.limitBytes) {
      const room = this.limitBytes - this.total;
      text = room > 0 ? (splitUtf8(text, room)[0] ?? '') : '';
      size = Buffer.byteLength(text);
      this.truncated = true;
    }
    this.append(stream, text, size);
    if (this.truncated) {
      const note = `[tm-agent] output beyond ${this.limitBytes} bytes was dropped\n`;
      this.append('system', note, Buffer.byteLength(note));
    }
    if (this.buffered >= this.flushBytes || this.truncated) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), this.flushMs);
  }

  /** Emits whatever is buffered now; called at the task's end before its outcome is reported. */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.chunks.length === 0) return;
    const out = this.chunks.flatMap((chunk) =>
      splitUtf8(chunk.data, MAX_LOG_CHUNK_BYTES).map((data) => ({ stream: chunk.stream, data })),
    );
    this.chunks = [];
    this.buffered = 0;
    this.emit(out);
  }

  private append(stream: LogStream, text: string, size: number): void {
    if (size === 0) return;
    this.total += size;
    this.buffered += size;
    const last = this.chunks.at(-1);
    // Consecutive writes to one stream merge, so interleaving is kept but chunks stay few.
    if (last !== undefined && last.stream === stream) last.data += text;
    else this.chunks.push({ stream, data: text });
  }
}

/** Splits text into pieces of at most `maxBytes` UTF-8 bytes, never inside a character. */
export function splitUtf8(text: string, maxBytes: number): string[] {
  if (Buffer.byteLength(text) <= maxBytes) return text === '' ? [] : [text];
  const bytes = Buffer.from(text, 'utf8');
  const pieces: string[] = [];
  let start = 0;
  while (start < bytes.length) {
    let end = Math.min(start + Math.max(1, maxBytes), bytes.length);
    // Back off continuation bytes (10xxxxxx) so a multi-byte character stays whole.
    while (end < bytes.length && end > start && isContinuation(bytes[end])) end--;
    // A limit below one character's size still makes progress: take that character whole.
    if (end === start) {
      end = start + 1;
      while (end < bytes.length && isContinuation(bytes[end])) end++;
    }
    pieces.push(bytes.toString('utf8', start, end));
    start = end;
  }
  return pieces;
}

function isContinuation(byte: number | undefined): boolean {
  return byte !== undefined && (byte & 0xc0) === 0x80;
}
