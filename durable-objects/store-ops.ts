/** Object store operations behind the HTTP API: register, read, list, delete, browse objects. */
import type { ObjectPage, ObjectStoreView, RegisterObjectStoreRequest } from '../protocol/index.ts';
import type { Core } from './core.ts';
import { jobsUsingStore } from './db/jobs.ts';
import { conflict, notFound, SchedulerError } from './failure.ts';
import { parseS3Url, sameStore, toStoreView } from './object-stores.ts';
import { deleteStore, findStore, insertStore, listStores } from './db/object-stores.ts';
import { listPage, StoreError } from './storage/s3.ts';

/** Registers a store; the same registration again is idempotent, a different one under the name is a conflict. */
export function registerStore(
  core: Core,
  request: RegisterObjectStoreRequest,
): { store: ObjectStoreView; created: boolean } {
  const name = request.name ?? request.url.slice('s3://'.length).split('/')[0] ?? '';
  const existing = findStore(core.sql, name);
  if (existing) {
    if (sameStore(existing, request)) return { store: toStoreView(existing), created: false };
    throw conflict(
      `an object store named ${name} already exists with other settings; delete it first or pick another name`,
    );
  }
  const location = parseS3Url(request.url);
  const row = insertStore(
    core.sql,
    crypto.randomUUID(),
    { ...request, name },
    location,
    core.now(),
  );
  return { store: toStoreView(row), created: true };
}

export function getStore(core: Core, idOrName: string): ObjectStoreView {
  const row = findStore(core.sql, idOrName);
  if (!row) throw notFound('object store', idOrName);
  return toStoreView(row);
}

export function listStoreViews(core: Core): ObjectStoreView[] {
  return listStores(core.sql).map(toStoreView);
}

export function removeStore(core: Core, idOrName: string): ObjectStoreView {
  const row = findStore(core.sql, idOrName);
  if (!row) throw notFound('object store', idOrName);
  const users = jobsUsingStore(core.sql, row.id);
  if (users.length > 0)
    throw conflict(`object store ${row.name} is in use by unfinished jobs`, {
      jobs: users,
    });
  deleteStore(core.sql, row.id);
  return toStoreView(row);
}

/** A page of the objects a job would read under `prefix`; an unreachable store is a clear 502. */
export async function browseStore(
  core: Core,
  idOrName: string,
  prefix = '',
  cursor?: string,
  limit = 100,
): Promise<ObjectPage> {
  const row = findStore(core.sql, idOrName);
  if (!row) throw notFound('object store', idOrName);
  try {
    return await listPage(row, prefix, cursor, limit);
  } catch (error) {
    if (error instanceof StoreError)
      throw new SchedulerError({ status: 502, code: 'store_unavailable', message: error.message });
    throw error;
  }
}
