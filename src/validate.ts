/** Request parsing at the edge: JSON bodies and query strings checked against protocol schemas. */
import type { Context } from 'hono';
import type { z } from 'zod';
import {
  MAX_JSON_DEPTH,
  decodeCursor,
  tooDeep,
  type CursorKey,
  type CursorView,
} from '../protocol/index.ts';
import { ApiError, badRequest } from './errors.ts';

function issues(error: z.ZodError) {
  return error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message }));
}

function describe(error: z.ZodError, what: string): string {
  const first = error.issues[0];
  if (!first) return `invalid ${what}`;
  if (first.code === 'unrecognized_keys')
    return `unknown field${first.keys.length > 1 ? 's' : ''} in ${what}: ${first.keys.join(', ')}`;
  const at = first.path.length > 0 ? ` at ${first.path.join('.')}` : '';
  return `invalid ${what}${at}: ${first.message}`;
}

/** Reads the body as JSON: malformed JSON and schema mismatches are 400s with details. */
export async function readJson<T extends z.ZodType>(
  c: Context,
  schema: T,
  before?: (json: unknown) => void,
): Promise<z.infer<T>> {
  const json = await readJsonBody(c);
  before?.(json);
  return checkBody(json, schema);
}

/**
 * Reads the body as any JSON value; malformed JSON is a 400 (`invalid_json`), and so is JSON
 * nested deeper than MAX_JSON_DEPTH (`json_too_deep`), checked on the text before any schema
 * walks it: zod's recursion overflowed the stack at ~1,800 levels (a 500).
 */
export async function readJsonBody(c: Context): Promise<unknown> {
  const text = await c.req.text();
  if (tooDeep(text, MAX_JSON_DEPTH)) {
    throw new ApiError({
      status: 400,
      code: 'json_too_deep',
      message: `request body nests arrays and objects deeper than ${MAX_JSON_DEPTH} levels`,
      details: { limit: MAX_JSON_DEPTH },
    });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new ApiError({
      status: 400,
      code: 'invalid_json',
      message: `request body is not valid JSON: ${error instanceof Error ? error.message : 'parse error'}`,
    });
  }
}

/** Checks a parsed body against a schema; a mismatch is a 400 with the issues as details. */
export function checkBody<T extends z.ZodType>(json: unknown, schema: T): z.infer<T> {
  const result = schema.safeParse(json);
  if (!result.success)
    throw badRequest(describe(result.error, 'request body'), { issues: issues(result.error) });
  return result.data;
}

export function readQuery<T extends z.ZodType>(c: Context, schema: T): z.infer<T> {
  const result = schema.safeParse(c.req.query());
  if (!result.success)
    throw badRequest(describe(result.error, 'query'), { issues: issues(result.error) });
  return result.data;
}

/** The key a page cursor of `view` holds; one this API did not give for that view is a 400. */
export function cursorKey<V extends CursorView>(
  view: V,
  cursor: string | undefined,
): CursorKey<V> | undefined {
  if (cursor === undefined) return undefined;
  const key = decodeCursor(view, cursor);
  if (key === null)
    throw badRequest(
      'cursor is not one this list gave: pass the "next" of its previous page as it came',
    );
  return key;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A path id that is not a UUID names nothing: 404, as for an unknown id. */
export function pathId(c: Context, what: string): string {
  const id = c.req.param('id') ?? '';
  if (!UUID.test(id))
    throw new ApiError({ status: 404, code: 'not_found', message: `${what} ${id} not found` });
  return id.toLowerCase();
}
