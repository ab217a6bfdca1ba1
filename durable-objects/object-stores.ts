/**
 * Object stores as the API and the agents see them: credentials are stored (db/object-stores.ts)
 * and leave only inside task specs.
 */
import type {
  ObjectStoreView,
  RegisterObjectStoreRequest,
  StoreAccess,
} from '../protocol/index.ts';
import type { StoreRow } from './db/object-stores.ts';
import { iso } from './views.ts';

/** Splits `s3://bucket/some/prefix` into the bucket and a prefix that is empty or ends with `/`. */
export function parseS3Url(url: string): { bucket: string; prefix: string } {
  const rest = url.slice('s3://'.length);
  const slash = rest.indexOf('/');
  if (slash < 0) return { bucket: rest, prefix: '' };
  const prefix = rest.slice(slash + 1).replace(/^\/+/, '');
  return {
    bucket: rest.slice(0, slash),
    prefix: prefix && !prefix.endsWith('/') ? `${prefix}/` : prefix,
  };
}

export function toStoreView(row: StoreRow): ObjectStoreView {
  return {
    id: row.id,
    name: row.name,
    url: row.url,
    bucket: row.bucket,
    prefix: row.prefix,
    endpoint: row.endpoint,
    region: row.region,
    forcePathStyle: row.force_path_style === 1,
    hasCredentials: row.access_key_id !== null,
    createdAt: iso(row.created_at),
  };
}

/** What an agent needs to reach the store: sent only inside the specs of its own tasks. */
export function toStoreAccess(row: StoreRow): StoreAccess {
  return {
    bucket: row.bucket,
    ...(row.endpoint ? { endpoint: row.endpoint } : {}),
    region: row.region,
    forcePathStyle: row.force_path_style === 1,
    ...(row.access_key_id && row.secret_access_key
      ? {
          credentials: {
            accessKeyId: row.access_key_id,
            secretAccessKey: row.secret_access_key,
            ...(row.session_token ? { sessionToken: row.session_token } : {}),
          },
        }
      : {}),
  };
}

/** True when a new registration says exactly what the stored one says (idempotent re-register). */
export function sameStore(row: StoreRow, request: RegisterObjectStoreRequest): boolean {
  const wanted = toStoreAccess(row);
  return (
    row.url === request.url &&
    (request.endpoint ?? null) === row.endpoint &&
    (request.region ?? 'auto') === row.region &&
    (request.accessKeyId ?? null) === row.access_key_id &&
    (request.secretAccessKey ?? null) === row.secret_access_key &&
    (request.sessionToken ?? null) === row.session_token &&
    (request.forcePathStyle ?? request.endpoint !== undefined) === wanted.forcePathStyle
  );
}
