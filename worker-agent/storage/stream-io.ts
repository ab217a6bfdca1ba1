/** What both object stores (SDK and presigned URLs) do with a GET's stream: gather it, or save it. */
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { redact } from '../../protocol/index.ts';
import { StorageError } from './errors.ts';

/**
 * The bytes of `range` (all of them without one) from `chunks`, a GET's body that starts at byte
 * `from` of the object: some servers answer a range with more than was asked (s3rver sends all of
 * `bytes=0-0`), so what lies outside it is cut, and reading stops at its end.
 */
export async function* withinRange(
  chunks: AsyncIterable<Uint8Array>,
  range: { start: number; end: number } | undefined,
  from: number,
): AsyncGenerator<Uint8Array> {
  if (!range) return yield* chunks;
  let position = from;
  for await (const chunk of chunks) {
    const at = position;
    position += chunk.byteLength;
    const piece = chunk.subarray(Math.max(0, range.start - at), Math.max(0, range.end - at));
    if (piece.byteLength > 0) yield piece;
    if (position >= range.end) return;
  }
}

/** Every chunk of `stream` in one array. */
export async function collect(stream: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let length = 0;
  for await (const chunk of stream) {
    chunks.push(chunk);
    length += chunk.byteLength;
  }
  const out = new Uint8Array(length);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.byteLength;
  }
  return out;
}

/**
 * Writes `stream` (object `key` of `bucket`) to `file` and returns its bytes; on failure the file
 * is removed, and an error that is not the store's own names the object with `secrets` redacted.
 */
export async function download(
  stream: AsyncIterable<Uint8Array>,
  where: { bucket: string; key: string; file: string; secrets: readonly string[] },
): Promise<number> {
  let bytes = 0;
  const counted = async function* () {
    for await (const chunk of stream) {
      bytes += chunk.byteLength;
      yield chunk;
    }
  };
  try {
    await pipeline(Readable.from(counted()), createWriteStream(where.file));
    return bytes;
  } catch (error) {
    await rm(where.file, { force: true });
    if (error instanceof StorageError) throw error;
    const { bucket, key, file } = where;
    const reason = error instanceof Error ? error.message : String(error);
    throw new StorageError(
      'io',
      redact(`download s3://${bucket}/${key} to ${file} failed: ${reason}`, where.secrets),
      { operation: 'download', bucket, key },
    );
  }
}
