/** API schemas for tenants and their tokens: the admin makes them, a token is shown only once. */
import { z } from 'zod';
import { ExecutorName } from './pipelines.ts';

/** A tenant's name: a slug, so it reads well in URLs and logs. */
export const TenantName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'expected 1-63 of a-z, 0-9, _ and -, starting alphanumeric');

/** Share of the cluster under contention, relative to other tenants' weights. */
const Weight = z.number().int().min(1).max(1000);

// ---- permissions (docs/security.md, "Tenants"): what a tenant's jobs may do ----

/** The job kinds a tenant may be granted; pipeline tasks are kind `pipeline`. */
export const TenantJobKind = z.enum(['command', 'pipeline', 'aggregate', 'echo']);
export type TenantJobKind = z.infer<typeof TenantJobKind>;

/**
 * A folder of a store, relative to the store's own prefix: `""` is the whole store, else it ends
 * with `/`, so `acme/` never covers `acme-2/`. No `.` or `..` segments and no backslashes: a URL
 * would fold them into another folder.
 */
export const StoreFolder = z
  .string()
  .max(1024)
  .refine(
    (folder) => folder === '' || (folder.endsWith('/') && !folder.startsWith('/')),
    'a folder is "" (the whole store) or ends with "/" and does not start with it',
  )
  .refine((folder) => isPlainKey(folder), 'a folder may not hold "." or ".." segments or "\\"');

/** One store a tenant may use, by the store's name, and the folders it may read and write. */
export const StoreGrant = z.strictObject({
  store: z.string().min(1).max(64),
  read: z.array(StoreFolder).max(64),
  write: z.array(StoreFolder).max(64),
});
export type StoreGrant = z.infer<typeof StoreGrant>;

/** `"*"`: every executor an agent announces. */
export const ANY_EXECUTOR = '*';

export const TenantPermissions = z.strictObject({
  /** Job kinds it may submit. Default: echo, pipeline and aggregate; `command` is a grant. */
  jobKinds: z.array(TenantJobKind).max(4),
  /**
   * Whether its pipeline steps may run programs other than the step's own executor (`cat`,
   * `{{workdir}}/run.sh`, `sh`): free-form programs are as strong as commands. Default false.
   */
  freeFormPrograms: z.boolean(),
  /** Executors its pipeline steps may name, or `"*"` for any. Default: none. */
  executors: z.array(z.union([ExecutorName, z.literal(ANY_EXECUTOR)])).max(256),
  /** Stores (and folders of them) its aggregations and pipeline sources may use. Default: none. */
  stores: z.array(StoreGrant).max(64),
});
export type TenantPermissions = z.infer<typeof TenantPermissions>;

/** What a new tenant may do: nothing that runs programs of its choosing or touches a store. */
export const DEFAULT_TENANT_PERMISSIONS: TenantPermissions = {
  jobKinds: ['echo', 'pipeline', 'aggregate'],
  freeFormPrograms: false,
  executors: [],
  stores: [],
};

/** In a request: the fields given replace the tenant's, the others stay as they are. */
export const TenantPermissionsPatch = TenantPermissions.partial();
export type TenantPermissionsPatch = z.infer<typeof TenantPermissionsPatch>;

/**
 * Most tasks the tenant may have queued at once, beside the cluster's bound; null: a quarter of
 * the cluster's bound (`TM_MAX_QUEUED_TASKS`), so no one tenant can fill the queue alone.
 */
const MaxQueuedTasks = z.number().int().min(1).max(100_000_000).nullable();

/** A store key or folder as a tenant may name it: no `.`/`..` segments, no backslash. */
export function isPlainKey(key: string): boolean {
  return !key.includes('\\') && !key.split('/').some((part) => part === '.' || part === '..');
}

export const CreateTenantRequest = z.strictObject({
  name: TenantName,
  weight: Weight.optional(),
  permissions: TenantPermissionsPatch.optional(),
  maxQueuedTasks: MaxQueuedTasks.optional(),
});
export type CreateTenantRequest = z.infer<typeof CreateTenantRequest>;

export const UpdateTenantRequest = z
  .strictObject({
    weight: Weight.optional(),
    permissions: TenantPermissionsPatch.optional(),
    maxQueuedTasks: MaxQueuedTasks.optional(),
  })
  .refine(
    (update) => Object.values(update).some((value) => value !== undefined),
    'give at least one of weight, permissions, maxQueuedTasks',
  );
export type UpdateTenantRequest = z.infer<typeof UpdateTenantRequest>;

/** A token's record: never the token itself, which exists only in the reply that made it. */
export const TenantTokenView = z.object({
  id: z.string(),
  createdAt: z.string(),
  lastUsedAt: z.string().nullable(),
});
export type TenantTokenView = z.infer<typeof TenantTokenView>;

export const TenantView = z.object({
  id: z.string(),
  name: z.string(),
  weight: z.number().int(),
  permissions: TenantPermissions,
  /** Its own queue quota; null: the default, a quarter of the cluster's bound. */
  maxQueuedTasks: z.number().int().nullable(),
  createdAt: z.string(),
  tokens: z.array(TenantTokenView),
});
export type TenantView = z.infer<typeof TenantView>;

/** Reply to making a tenant or a token: `token` is shown here once and stored hashed. */
export const CreatedTenantToken = z.object({
  tenant: TenantView,
  tokenId: z.string(),
  token: z.string(),
});
export type CreatedTenantToken = z.infer<typeof CreatedTenantToken>;

/** Who a token speaks for, as `GET /v1/whoami` tells it. */
export const WhoAmI = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('admin') }),
  z.object({ kind: z.literal('tenant'), tenantId: z.string(), tenantName: z.string() }),
]);
export type WhoAmI = z.infer<typeof WhoAmI>;
