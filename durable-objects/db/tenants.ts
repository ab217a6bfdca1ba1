/**
 * Tenant rows and their tokens in SQLite: every query on `tenants` and `tenant_tokens`. Tokens are
 * stored as SHA-256 hashes; permissions as JSON, parsed with their schema when read back.
 */
import { z } from 'zod';
import {
  DEFAULT_TENANT_PERMISSIONS,
  TenantPermissionsPatch,
  type TenantPermissions,
} from '../../protocol/index.ts';
import type { Sql } from './sql.ts';
import { Count } from './rows.ts';

export interface TenantRow {
  id: string;
  name: string;
  weight: number;
  permissions: TenantPermissions;
  maxQueuedTasks: number | null;
  createdAt: number;
}

/** A `tenants` row as SQLite gives it back, parsed rather than cast. */
const StoredTenant = z.object({
  id: z.string(),
  name: z.string(),
  weight: z.number().int(),
  permissions: z.string(),
  max_queued_tasks: z.number().int().nullable(),
  created_at: z.number(),
});
type StoredTenant = z.infer<typeof StoredTenant>;

const TokenRow = z.object({
  id: z.string(),
  created_at: z.number(),
  last_used_at: z.number().nullable(),
});
export type TokenRow = z.infer<typeof TokenRow>;

const TokenOwner = z.object({
  id: z.string(),
  tenant_id: z.string(),
  name: z.string(),
  last_used_at: z.number().nullable(),
});

/**
 * The stored JSON over the defaults. A field the schema refuses (a row written by other code)
 * throws: permissions are never guessed.
 */
export function parsePermissions(json: string): TenantPermissions {
  const stored = TenantPermissionsPatch.parse(JSON.parse(json));
  return { ...DEFAULT_TENANT_PERMISSIONS, ...stored };
}

function toTenantRow(row: StoredTenant): TenantRow {
  return {
    id: row.id,
    name: row.name,
    weight: row.weight,
    permissions: parsePermissions(row.permissions),
    maxQueuedTasks: row.max_queued_tasks,
    createdAt: row.created_at,
  };
}

/** A tenant by id or by name. */
export function findTenant(sql: Sql, idOrName: string): TenantRow | null {
  const row = sql.row(
    StoredTenant,
    `SELECT * FROM tenants WHERE id = ? OR name = ?`,
    idOrName,
    idOrName,
  );
  return row ? toTenantRow(row) : null;
}

export function listTenantRows(sql: Sql): TenantRow[] {
  return sql.rows(StoredTenant, `SELECT * FROM tenants ORDER BY created_at, name`).map(toTenantRow);
}

export function insertTenant(sql: Sql, row: TenantRow): void {
  sql.run(
    `INSERT INTO tenants (id, name, weight, permissions, max_queued_tasks, created_at)
     VALUES (?, ?, ?, ?, ?, ?)`,
    row.id,
    row.name,
    row.weight,
    JSON.stringify(row.permissions),
    row.maxQueuedTasks,
    row.createdAt,
  );
}

/** Writes the tenant's weight, permissions and quota as given. */
export function updateTenantRow(sql: Sql, row: TenantRow): void {
  sql.run(
    `UPDATE tenants SET weight = ?, permissions = ?, max_queued_tasks = ? WHERE id = ?`,
    row.weight,
    JSON.stringify(row.permissions),
    row.maxQueuedTasks,
    row.id,
  );
}

/** Permissions and quota of a tenant by id, or null when it is gone. */
export function tenantLimits(
  sql: Sql,
  tenantId: string,
): Pick<TenantRow, 'name' | 'permissions' | 'maxQueuedTasks'> | null {
  const row = sql.row(
    StoredTenant.pick({ name: true, permissions: true, max_queued_tasks: true }),
    `SELECT name, permissions, max_queued_tasks FROM tenants WHERE id = ?`,
    tenantId,
  );
  if (!row) return null;
  return {
    name: row.name,
    permissions: parsePermissions(row.permissions),
    maxQueuedTasks: row.max_queued_tasks,
  };
}

/** Tasks of the tenant waiting in the queue (the partial index tasks_tenant_queue counts them). */
export function queuedTaskCount(sql: Sql, tenantId: string): number {
  return (
    sql.row(
      Count,
      `SELECT count(*) AS n FROM tasks WHERE tenant_id = ? AND state = 'queued'`,
      tenantId,
    )?.n ?? 0
  );
}

export function tokensOf(sql: Sql, tenantId: string): TokenRow[] {
  return sql.rows(
    TokenRow,
    `SELECT id, created_at, last_used_at FROM tenant_tokens WHERE tenant_id = ? ORDER BY created_at`,
    tenantId,
  );
}

export function insertToken(
  sql: Sql,
  token: { id: string; tenantId: string; hash: string; createdAt: number },
): void {
  sql.run(
    `INSERT INTO tenant_tokens (id, tenant_id, hash, created_at) VALUES (?, ?, ?, ?)`,
    token.id,
    token.tenantId,
    token.hash,
    token.createdAt,
  );
}

/** Deletes one token of the tenant; how many rows went (0 or 1). */
export function deleteToken(sql: Sql, tenantId: string, tokenId: string): number {
  return sql.run(`DELETE FROM tenant_tokens WHERE id = ? AND tenant_id = ?`, tokenId, tenantId);
}

/** The tenant a token hash belongs to, marking the token used (at most once a minute). */
export function tenantOfToken(
  sql: Sql,
  hash: string,
  now: number,
): { tenantId: string; tenantName: string } | null {
  const row = sql.row(
    TokenOwner,
    `SELECT t.id, t.tenant_id, n.name, t.last_used_at
     FROM tenant_tokens t JOIN tenants n ON n.id = t.tenant_id WHERE t.hash = ?`,
    hash,
  );
  if (!row) return null;
  if (row.last_used_at === null || now - row.last_used_at > 60_000)
    sql.run(`UPDATE tenant_tokens SET last_used_at = ? WHERE id = ?`, now, row.id);
  return { tenantId: row.tenant_id, tenantName: row.name };
}

/** Whether any tenant exists. */
export function hasTenants(sql: Sql): boolean {
  return (
    sql.row(z.object({ found: z.number() }), `SELECT 1 AS found FROM tenants LIMIT 1`) !== null
  );
}
