/** Object store records in SQLite: credentials are stored here and leave only inside task specs. */
import type {
  ObjectStoreView,
  RegisterObjectStoreRequest,
  StoreAccess,
} from '../protocol/index.ts';
import type { Sql } from './db/sql.ts';
import { iso } from './views.ts';

export interface StoreRow {
  id: string;
  name: string;
  url: string;
  bucket: string;
  prefix: string;
  endpoint: string | null;
  region: string;
  force_path_style: number;
  access_key_id: string | null;
  secret_access_key: string | null;
  session_token: string | null;
  created_at: number;
}

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

export function insertStore(
  sql: Sql,
  id: string,
  request: RegisterObjectStoreRequest,
  now: number,
): StoreRow {
  const { bucket, prefix } = parseS3Url(request.url);
  sql.run(
    `INSERT INTO object_stores (id, name, url, bucket, prefix, endpoint, region, force_path_style,
       access_key_id, secret_access_key, session_token, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    id,
    request.name ?? bucket,
    request.url,
    bucket,
    prefix,
    request.endpoint ?? null,
    request.region ?? 'auto',
    (request.forcePathStyle ?? request.endpoint !== undefined) ? 1 : 0,
    request.accessKeyId ?? null,
    request.secretAccessKey ?? null,
    request.sessionToken ?? null,
    now,
  );
  const row = findStore(sql, id);
  if (!row) throw new Error(`object store ${id} vanished after insert`);
  return row;
}

/** Finds a store by id or by name. */
export function findStore(sql: Sql, idOrName: string): StoreRow | null {
  return sql.first<StoreRow>(
    `SELECT * FROM object_stores WHERE id = ? OR name = ?`,
    idOrName,
    idOrName,
  );
}

export function listStores(sql: Sql): StoreRow[] {
  return sql.all<StoreRow>(`SELECT * FROM object_stores ORDER BY created_at`);
}

export function deleteStore(sql: Sql, id: string): void {
  sql.run(`DELETE FROM object_stores WHERE id = ?`, id);
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
