/** Queries on `object_stores`: credentials are stored here and leave only inside task specs. */
import { z } from 'zod';
import type { RegisterObjectStoreRequest } from '../../protocol/index.ts';
import type { Sql } from './sql.ts';

export const StoreRow = z.object({
  id: z.string(),
  name: z.string(),
  url: z.string(),
  bucket: z.string(),
  prefix: z.string(),
  endpoint: z.string().nullable(),
  region: z.string(),
  force_path_style: z.number().int(),
  access_key_id: z.string().nullable(),
  secret_access_key: z.string().nullable(),
  session_token: z.string().nullable(),
  created_at: z.number(),
});
export type StoreRow = z.infer<typeof StoreRow>;

/** Stores a store at `location`, the bucket and prefix of its URL. */
export function insertStore(
  sql: Sql,
  id: string,
  request: RegisterObjectStoreRequest,
  location: { bucket: string; prefix: string },
  now: number,
): StoreRow {
  const { bucket, prefix } = location;
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
  return sql.row(
    StoreRow,
    `SELECT * FROM object_stores WHERE id = ? OR name = ?`,
    idOrName,
    idOrName,
  );
}

export function listStores(sql: Sql): StoreRow[] {
  return sql.rows(StoreRow, `SELECT * FROM object_stores ORDER BY created_at`);
}

export function deleteStore(sql: Sql, id: string): void {
  sql.run(`DELETE FROM object_stores WHERE id = ?`, id);
}
