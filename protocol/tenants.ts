/** API schemas for tenants and their tokens: the admin makes them, a token is shown only once. */
import { z } from 'zod';

/** A tenant's name: a slug, so it reads well in URLs and logs. */
export const TenantName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'expected 1-63 of a-z, 0-9, _ and -, starting alphanumeric');

/** Share of the cluster under contention, relative to other tenants' weights. */
const Weight = z.number().int().min(1).max(1000);

export const CreateTenantRequest = z.strictObject({
  name: TenantName,
  weight: Weight.optional(),
});
export type CreateTenantRequest = z.infer<typeof CreateTenantRequest>;

export const UpdateTenantRequest = z.strictObject({ weight: Weight });
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
