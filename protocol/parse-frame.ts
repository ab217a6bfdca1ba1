/** Pure frame parsing: size check, depth check, JSON, schema; never throws. */
import type { z } from 'zod';
import { MAX_FRAME_BYTES, MAX_TASKS_PER_FRAME, MAX_WIRE_MESSAGE_BYTES } from './limits.ts';
import { MAX_FRAME_JSON_DEPTH, tooDeep } from './json-limits.ts';

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
  // Before anything recursive walks it: zod overflowed the stack at ~1,800 levels.
  if (tooDeep(raw, MAX_FRAME_JSON_DEPTH)) {
    return {
      ok: false,
      code: 'frame_too_deep',
      message: `frame nests arrays and objects deeper than ${MAX_FRAME_JSON_DEPTH} levels`,
    };
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return { ok: false, code: 'malformed_frame', message: 'frame is not valid JSON' };
  }
  let result: ReturnType<typeof schema.safeParse>;
  try {
    result = schema.safeParse(json);
  } catch (error) {
    // Never expected past the depth check; a frame is refused, not the process.
    const reason = error instanceof Error ? error.message : String(error);
    return { ok: false, code: 'invalid_frame', message: `frame could not be checked: ${reason}` };
  }
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
  if (tooDeep(raw, MAX_FRAME_JSON_DEPTH)) return null;
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

/**
 * The tasks of an `assign` frame that was refused (too large, too deep, or not matching the
 * schema), read from its JSON without checking the rest, so that the agent can fail them instead
 * of leaving them to the lease; empty when the frame is no assign or its tasks cannot be read.
 * Reads at most MAX_WIRE_MESSAGE_BYTES of text, and MAX_TASKS_PER_FRAME entries.
 */
export function refusedAssignments(
  raw: string | ArrayBuffer,
): { taskId: string; attempt: number }[] {
  if (typeof raw !== 'string' || raw.length > MAX_WIRE_MESSAGE_BYTES) return [];
  let json: unknown;
  try {
    // JSON.parse itself does not recurse in V8 or workerd: deep text parses; only walks of it overflow.
    json = JSON.parse(raw);
  } catch {
    return [];
  }
  if (typeof json !== 'object' || json === null) return [];
  const { type, tasks } = json as { type?: unknown; tasks?: unknown };
  if (type !== 'assign' || !Array.isArray(tasks)) return [];
  const refs: { taskId: string; attempt: number }[] = [];
  for (const task of tasks.slice(0, MAX_TASKS_PER_FRAME)) {
    if (typeof task !== 'object' || task === null) continue;
    const { taskId, attempt } = task as { taskId?: unknown; attempt?: unknown };
    if (typeof taskId !== 'string' || !TASK_ID.test(taskId)) continue;
    if (typeof attempt !== 'number' || !Number.isInteger(attempt) || attempt < 1) continue;
    refs.push({ taskId, attempt });
  }
  return refs;
}

const TASK_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
