/** Tenants and their tokens in SQLite: tokens are stored as SHA-256 hashes, never as given. */
import type {
  CreateTenantRequest,
  CreatedTenantToken,
  TenantView,
  UpdateTenantRequest,
} from '../protocol/index.ts';
import type { Core } from './core.ts';
import type { Sql } from './sql.ts';
import { conflict, notFound } from './failure.ts';
import { hashToken, newToken } from './tokens.ts';
import { iso, isoOrNull } from './rows.ts';

interface TenantRow {
  id: string;
  name: string;
  weight: number;
  created_at: number;
}

interface TokenRow {
  id: string;
  created_at: number;
  last_used_at: number | null;
}

/** A tenant by id or by name. */
function findTenant(sql: Sql, idOrName: string): TenantRow | null {
  return sql.first<TenantRow>(`SELECT * FROM tenants WHERE id = ? OR name = ?`, idOrName, idOrName);
}

function requireTenant(sql: Sql, idOrName: string): TenantRow {
  const row = findTenant(sql, idOrName);
  if (!row) throw notFound('tenant', idOrName);
  return row;
}

function tenantView(sql: Sql, row: TenantRow): TenantView {
  const tokens = sql.all<TokenRow>(
    `SELECT id, created_at, last_used_at FROM tenant_tokens WHERE tenant_id = ? ORDER BY created_at`,
    row.id,
  );
  return {
    id: row.id,
    name: row.name,
    weight: row.weight,
    createdAt: iso(row.created_at),
    tokens: tokens.map((t) => ({
      id: t.id,
      createdAt: iso(t.created_at),
      lastUsedAt: isoOrNull(t.last_used_at),
    })),
  };
}

async function addToken(core: Core, tenantId: string): Promise<{ id: string; token: string }> {
  const token = newToken('tmt_');
  const id = crypto.randomUUID();
  core.sql.run(
    `INSERT INTO tenant_tokens (id, tenant_id, hash, created_at) VALUES (?, ?, ?, ?)`,
    id,
    tenantId,
    await hashToken(token),
    core.now(),
  );
  return { id, token };
}

export async function createTenant(
  core: Core,
  request: CreateTenantRequest,
): Promise<CreatedTenantToken> {
  if (findTenant(core.sql, request.name))
    throw conflict(`a tenant named ${request.name} already exists`);
  const id = crypto.randomUUID();
  core.sql.run(
    `INSERT INTO tenants (id, name, weight, created_at) VALUES (?, ?, ?, ?)`,
    id,
    request.name,
    request.weight ?? 1,
    core.now(),
  );
  const { id: tokenId, token } = await addToken(core, id);
  return { tenant: tenantView(core.sql, requireTenant(core.sql, id)), tokenId, token };
}

export function listTenants(core: Core): TenantView[] {
  return core.sql
    .all<TenantRow>(`SELECT * FROM tenants ORDER BY created_at, name`)
    .map((row) => tenantView(core.sql, row));
}

export function getTenant(core: Core, idOrName: string): TenantView {
  return tenantView(core.sql, requireTenant(core.sql, idOrName));
}

export function updateTenant(
  core: Core,
  idOrName: string,
  request: UpdateTenantRequest,
): TenantView {
  const row = requireTenant(core.sql, idOrName);
  core.sql.run(`UPDATE tenants SET weight = ? WHERE id = ?`, request.weight, row.id);
  return getTenant(core, row.id);
}

/** A new token for a tenant (for rotation): the old ones keep working until revoked. */
export async function createTenantToken(core: Core, idOrName: string): Promise<CreatedTenantToken> {
  const row = requireTenant(core.sql, idOrName);
  const { id: tokenId, token } = await addToken(core, row.id);
  return { tenant: tenantView(core.sql, row), tokenId, token };
}

export function revokeTenantToken(core: Core, idOrName: string, tokenId: string): TenantView {
  const row = requireTenant(core.sql, idOrName);
  const removed = core.sql.run(
    `DELETE FROM tenant_tokens WHERE id = ? AND tenant_id = ?`,
    tokenId,
    row.id,
  );
  if (removed === 0) throw notFound('token', tokenId);
  return tenantView(core.sql, row);
}

/** The tenant a token hash belongs to, marking the token used (at most once a minute). */
export function tenantOfToken(
  sql: Sql,
  hash: string,
  now: number,
): { tenantId: string; tenantName: string } | null {
  const row = sql.first<{
    id: string;
    tenant_id: string;
    name: string;
    last_used_at: number | null;
  }>(
    `SELECT t.id, t.tenant_id, n.name, t.last_used_at
     FROM tenant_tokens t JOIN tenants n ON n.id = t.tenant_id WHERE t.hash = ?`,
    hash,
  );
  if (!row) return null;
  if (row.last_used_at === null || now - row.last_used_at > 60_000)
    sql.run(`UPDATE tenant_tokens SET last_used_at = ? WHERE id = ?`, now, row.id);
  return { tenantId: row.tenant_id, tenantName: row.name };
}
