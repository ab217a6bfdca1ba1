/**
 * Tenant grants for tests. A new tenant may not run commands or free-form pipeline programs, name
 * executors or touch stores (docs/security.md, "Tenants"); tests that need more grant it here.
 */
import type { TmClient } from '../../cli/sdk/client.ts';
import type { StoreGrant, TenantPermissionsPatch, TenantView } from '../../protocol/index.ts';

/** Every job kind, free-form programs and any executor: what a tenant could do before grants. */
export const GRANT_ALL = {
  jobKinds: ['command', 'pipeline', 'aggregate', 'echo'],
  freeFormPrograms: true,
  executors: ['*'],
} satisfies TenantPermissionsPatch;

/** Reads and writes anywhere in each of these stores. */
export const wholeStores = (...stores: string[]): StoreGrant[] =>
  stores.map((store) => ({ store, read: [''], write: [''] }));

/**
 * Grants a tenant `permissions` (default GRANT_ALL) through the admin's client: the fields given
 * replace the tenant's, as `PATCH /v1/tenants/{id}` does.
 */
export function grantTenant(
  admin: Pick<TmClient, 'updateTenant'>,
  tenant: string,
  permissions: TenantPermissionsPatch = GRANT_ALL,
): Promise<TenantView> {
  return admin.updateTenant(tenant, { permissions });
}
