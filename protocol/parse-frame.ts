/** Pure frame parsing: size check, JSON, schema; never throws. */
import type { z } from 'zod';
import { MAX_FRAME_BYTES } from './limits.ts';

const encoder = new TextEncoder();

export type Parsed<T> = { ok: true; frame: T } | { ok: false; code: string; message: string };

/** Parses one text frame against `schema`, reporting why a bad frame is bad. */
export function parseFrame<T>(raw: string | ArrayBuffer, schema: z.ZodType<T>): Parsed<T> {
  if (typeof raw !== 'string')
    return { ok: false, code: 'binary_frame', message: 'frames are JSON text' };
  // A character is at most 3 UTF-8 bytes in a JS string's code units: count bytes only when it matters.
  if (
    raw.length > MAX_FRAME_BYTES ||
    (raw.length * 3 > MAX_FRAME_BYTES && encoder.encode(raw).length > MAX_FRAME_BYTES)
  ) {
    return {
      ok: false,
      code: 'frame_too_large',
      message: `frame exceeds ${MAX_FRAME_BYTES} bytes`,
    };
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return { ok: false, code: 'malformed_frame', message: 'frame is not valid JSON' };
  }
  const result = schema.safeParse(json);
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue && issue.path.length > 0 ? ` at ${issue.path.join('.')}` : '';
    return {
      ok: false,
      code: 'invalid_frame',
      message: `${issue?.message ?? 'invalid frame'}${where}`,
    };
  }
  return { ok: true, frame: result.data };
}

/**
 * The protocol version claimed by a `hello` that failed to parse, so that an agent speaking
 * another version is told that, rather than which of its fields is wrong; null otherwise.
 */
export function claimedHelloVersion(raw: string | ArrayBuffer): number | null {
  if (typeof raw !== 'string' || raw.length > MAX_FRAME_BYTES) return null;
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return null;
  }
  if (typeof json !== 'object' || json === null) return null;
  const { type, protocolVersion } = json as { type?: unknown; protocolVersion?: unknown };
  return type === 'hello' && Number.isInteger(protocolVersion) ? (protocolVersion as number) : null;
}
