/**
 * Per-tenant work dirs. The admin's tasks run in the agent's work dir itself; tenant T's in
 * `<work dir>/.tm-tenants/<T>/`, made on first use (0700), where its `path` resolves. Under
 * bwrap a tenant's task sees the work dir read-only, every other tenant's dir hidden, and its
 * own read-write at the same path.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';

/** The folder in the work dir that holds every tenant's own dir. */
export const TENANTS_DIR = '.tm-tenants';
/** The folder of a work dir (the agent's, or a tenant's) that holds pipeline scratch dirs. */
export const PIPELINES_DIR = '.tm-pipelines';

/** Tenant ids are UUIDs: one plain path segment, never `..` or a slash. */
const TENANT_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/** Where tasks of `tenant` (null: the admin) keep their files; pure. Throws on a bad id. */
export function tenantRoot(workDir: string, tenant: string | null): string {
  if (tenant === null) return workDir;
  if (!TENANT_NAME.test(tenant))
    throw new Error(`tenant id ${JSON.stringify(tenant)} is not a plain name`);
  return join(workDir, TENANTS_DIR, tenant);
}

/** Makes the tenant's dir (and the tenants' folder) when missing; returns its path. */
export async function ensureTenantRoot(workDir: string, tenant: string | null): Promise<string> {
  const root = tenantRoot(workDir, tenant);
  if (tenant !== null) {
    await mkdir(join(workDir, TENANTS_DIR), { recursive: true, mode: 0o711 });
    await mkdir(root, { recursive: true, mode: 0o700 });
  }
  return root;
}
