/** Tenant operations behind the admin's API: make, read, update, and issue and revoke tokens. */
import {
  DEFAULT_TENANT_PERMISSIONS,
  type CreateTenantRequest,
  type CreatedTenantToken,
  type TenantView,
  type UpdateTenantRequest,
} from '../protocol/index.ts';
import type { Core } from './core.ts';
import type { Sql } from './db/sql.ts';
import { conflict, notFound } from './failure.ts';
import { newToken } from './tokens.ts';
import { hashToken } from '../protocol/index.ts';
import { iso, isoOrNull } from './views.ts';
import {
  deleteToken,
  findTenant,
  insertTenant,
  insertToken,
  listTenantRows,
  tokensOf,
  updateTenantRow,
  type TenantRow,
} from './db/tenants.ts';

export { tenantOfToken } from './db/tenants.ts';

function requireTenant(sql: Sql, idOrName: string): TenantRow {
  const row = findTenant(sql, idOrName);
  if (!row) throw notFound('tenant', idOrName);
  return row;
}

function tenantView(sql: Sql, row: TenantRow): TenantView {
  return {
    id: row.id,
    name: row.name,
    weight: row.weight,
    permissions: row.permissions,
    maxQueuedTasks: row.maxQueuedTasks,
    createdAt: iso(row.createdAt),
    tokens: tokensOf(sql, row.id).map((t) => ({
      id: t.id,
      createdAt: iso(t.created_at),
      lastUsedAt: isoOrNull(t.last_used_at),
    })),
  };
}

/** A new token and its record, hashed before any write so the writes need no await. */
async function newTokenRecord(core: Core, tenantId: string) {
  const token = newToken('tmt_');
  const hash = await hashToken(token);
  return { token, record: { id: crypto.randomUUID(), tenantId, hash, createdAt: core.now() } };
}

/** The tenant and its first token in one transaction: a tenant never exists without its token. */
export async function createTenant(
  core: Core,
  request: CreateTenantRequest,
): Promise<CreatedTenantToken> {
  const id = crypto.randomUUID();
  const { token, record } = await newTokenRecord(core, id);
  const row: TenantRow = {
    id,
    name: request.name,
    weight: request.weight ?? 1,
    permissions: { ...DEFAULT_TENANT_PERMISSIONS, ...request.permissions },
    maxQueuedTasks: request.maxQueuedTasks ?? null,
    createdAt: record.createdAt,
  };
  core.sql.transaction(() => {
    if (findTenant(core.sql, request.name))
      throw conflict(`a tenant named ${request.name} already exists`);
    insertTenant(core.sql, row);
    insertToken(core.sql, record);
  });
  return { tenant: tenantView(core.sql, row), tokenId: record.id, token };
}

export function listTenants(core: Core): TenantView[] {
  return listTenantRows(core.sql).map((row) => tenantView(core.sql, row));
}

export function getTenant(core: Core, idOrName: string): TenantView {
  return tenantView(core.sql, requireTenant(core.sql, idOrName));
}

/** Sets what the request gives; permission fields it gives replace those fields only. */
export function updateTenant(
  core: Core,
  idOrName: string,
  request: UpdateTenantRequest,
): TenantView {
  const row = requireTenant(core.sql, idOrName);
  const updated: TenantRow = {
    ...row,
    weight: request.weight ?? row.weight,
    permissions: { ...row.permissions, ...request.permissions },
    maxQueuedTasks:
      request.maxQueuedTasks === undefined ? row.maxQueuedTasks : request.maxQueuedTasks,
  };
  updateTenantRow(core.sql, updated);
  return tenantView(core.sql, updated);
}

/** A new token for a tenant (for rotation): the old ones keep working until revoked. */
export async function createTenantToken(core: Core, idOrName: string): Promise<CreatedTenantToken> {
  const row = requireTenant(core.sql, idOrName);
  const { token, record } = await newTokenRecord(core, row.id);
  // The tenant may have gone while the hash was computed; the token must not outlive it.
  core.sql.transaction(() => {
    requireTenant(core.sql, row.id);
    insertToken(core.sql, record);
  });
  return { tenant: tenantView(core.sql, row), tokenId: record.id, token };
}

export function revokeTenantToken(core: Core, idOrName: string, tokenId: string): TenantView {
  const row = requireTenant(core.sql, idOrName);
  if (deleteToken(core.sql, row.id, tokenId) === 0) throw notFound('token', tokenId);
  return tenantView(core.sql, row);
}
