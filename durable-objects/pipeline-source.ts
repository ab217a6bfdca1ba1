/** Reads a pipeline definition from a JSON object in a registered object store (`"from"`). */
import {
  MAX_BODY_BYTES,
  MAX_JSON_DEPTH,
  PipelineObject,
  tooDeep,
  type PipelineDefinition,
  type PipelineSource,
} from '../protocol/index.ts';
import { badRequest, SchedulerError } from './failure.ts';
import type { Sql } from './db/sql.ts';
import { findStore } from './db/object-stores.ts';
import { getObjectBounded, ObjectTooLargeError, StoreError } from './storage/s3.ts';

export async function readPipelineObject(
  sql: Sql,
  name: string,
  source: PipelineSource,
): Promise<PipelineDefinition> {
  const store = findStore(sql, source.store);
  if (!store)
    throw badRequest(
      `unknown object store "${source.store}" in from.store; register it with POST /v1/object-stores`,
    );
  const where = `object ${source.key} of store ${store.name}`;
  let bytes: Uint8Array;
  try {
    // Never more than a definition may have: a 200 MiB object is refused unread.
    bytes = await getObjectBounded(
      store,
      store.prefix + source.key.replace(/^\/+/, ''),
      MAX_BODY_BYTES,
    );
  } catch (error) {
    if (error instanceof ObjectTooLargeError)
      throw badRequest(
        `${where} is ${error.size ?? `over ${MAX_BODY_BYTES}`} bytes; a definition may have ${MAX_BODY_BYTES}`,
        { limit: MAX_BODY_BYTES, size: error.size },
      );
    if (error instanceof StoreError)
      throw new SchedulerError({ status: 502, code: 'store_unavailable', message: error.message });
    throw error;
  }
  if (bytes.byteLength > MAX_BODY_BYTES)
    throw badRequest(
      `${where} is ${bytes.byteLength} bytes; a definition may have ${MAX_BODY_BYTES}`,
    );
  const text = new TextDecoder().decode(bytes);
  if (tooDeep(text, MAX_JSON_DEPTH))
    throw badRequest(`${where} nests arrays and objects deeper than ${MAX_JSON_DEPTH} levels`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw badRequest(`${where} is not JSON`);
  }
  const parsed = PipelineObject.safeParse(json);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    const at = first && first.path.length > 0 ? ` at ${first.path.join('.')}` : '';
    throw badRequest(`${where} is not a valid pipeline definition${at}: ${first?.message}`, {
      issues: parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
    });
  }
  const { name: named, ...definition } = parsed.data;
  if (named !== undefined && named !== name)
    throw badRequest(`${where} defines pipeline "${named}", not "${name}"`);
  return definition;
}
