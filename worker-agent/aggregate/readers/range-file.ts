/** An S3 object as the random-access file handle apache-arrow reads IPC files through, one range at a time. */
import type { FileHandle } from 'node:fs/promises';
import type { ReadContext } from './read-context.ts';

/** Bytes fetched past a read, so a message's prefix, metadata and body mostly come in one request. */
const READ_AHEAD = 256 * 1024;

/**
 * Just what apache-arrow's `RecordBatchReader.from(fileHandle)` uses (`fd`, `stat`, `read`, `close`):
 * it reads the footer, then each batch at its offset, so memory holds one batch, not the file.
 */
export function rangeFile(context: ReadContext, size: number): FileHandle {
  const options = context.signal ? { signal: context.signal } : {};
  let cache: { start: number; bytes: Uint8Array } | null = null;
  const handle = {
    fd: -1,
    stat: async () => ({ size }),
    async read(buffer: Uint8Array, offset: number, length: number, position: number) {
      const end = Math.min(size, position + length);
      if (position >= end) return { bytesRead: 0, buffer };
      if (!cache || position < cache.start || end > cache.start + cache.bytes.byteLength) {
        const fetchEnd = Math.min(size, Math.max(end, position + READ_AHEAD));
        cache = null;
        const bytes = await context.store.get(
          context.key,
          { start: position, end: fetchEnd },
          options,
        );
        context.countBytes(bytes.byteLength);
        if (bytes.byteLength < end - position) {
          throw new Error(`the object ended at byte ${position + bytes.byteLength}`);
        }
        cache = { start: position, bytes };
      }
      buffer.set(cache.bytes.subarray(position - cache.start, end - cache.start), offset);
      return { bytesRead: end - position, buffer };
    },
    async close() {
      cache = null;
    },
  };
  return handle as unknown as FileHandle;
}
