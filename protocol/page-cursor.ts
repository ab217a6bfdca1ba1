/**
 * Opaque page cursors: a paged view hands back `next`, and reads on from it as `?cursor=`. A cursor
 * names the view it came from and the key of the last row it showed (keyset paging: rows added or
 * ended meanwhile never shift a page); one that does not decode, or is another view's, is refused.
 */
import { z } from 'zod';
import { fromBase64Url, toBase64Url } from './agent-identity.ts';

const KEYS = {
  /** A job's tasks, by index: the last index shown. */
  'job-tasks': z.tuple([z.number().int().min(0)]),
  /** Tasks across jobs, newest first: the last sequence number shown. */
  tasks: z.tuple([z.number().int().min(0)]),
  /** Jobs, newest first: the creation time and id of the last one shown. */
  jobs: z.tuple([z.number().int().min(0), z.uuid()]),
} as const;

export type CursorView = keyof typeof KEYS;
export type CursorKey<V extends CursorView> = z.infer<(typeof KEYS)[V]>;

/** The query parameter as the API takes it; what it holds is checked by decodeCursor. */
export const Cursor = z.string().min(1).max(512);

export function encodeCursor<V extends CursorView>(view: V, key: CursorKey<V>): string {
  return toBase64Url(new TextEncoder().encode(JSON.stringify([view, ...key])));
}

/** The key a cursor of `view` holds, or null when it is not one (malformed, or another view's). */
export function decodeCursor<V extends CursorView>(view: V, cursor: string): CursorKey<V> | null {
  let parts: unknown;
  try {
    parts = JSON.parse(
      new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(fromBase64Url(cursor)),
    );
  } catch {
    return null;
  }
  if (!Array.isArray(parts) || parts[0] !== view) return null;
  const key = KEYS[view].safeParse(parts.slice(1));
  return key.success ? (key.data as CursorKey<V>) : null;
}
