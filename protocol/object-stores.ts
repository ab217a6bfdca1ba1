/** API schemas for object stores: S3-compatible locations whose credentials are write-only. */
import { z } from 'zod';

export const StoreName = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9_-]{0,62}$/,
    'names are 1-63 of a-z, 0-9, - and _, starting with a letter or digit',
  );

/** `s3://bucket` or `s3://bucket/prefix`. */
export const S3Url = z
  .string()
  .max(1024)
  .regex(/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/[^\0]*)?$/, 'expected s3://bucket[/prefix]');

export const RegisterObjectStoreRequest = z.strictObject({
  name: StoreName.optional(),
  url: S3Url,
  /** S3 API endpoint; omit for AWS, R2 is https://<account>.r2.cloudflarestorage.com. */
  endpoint: z
    .url({ protocol: /^https?$/ })
    .max(1024)
    .optional(),
  region: z.string().min(1).max(64).optional(),
  accessKeyId: z.string().min(1).max(256).optional(),
  secretAccessKey: z.string().min(1).max(512).optional(),
  sessionToken: z.string().min(1).max(4096).optional(),
  forcePathStyle: z.boolean().optional(),
});
export type RegisterObjectStoreRequest = z.infer<typeof RegisterObjectStoreRequest>;

/** A store as the API shows it: never its credentials, only whether it has them. */
export const ObjectStoreView = z.object({
  id: z.string(),
  name: z.string(),
  url: z.string(),
  bucket: z.string(),
  prefix: z.string(),
  endpoint: z.string().nullable(),
  region: z.string(),
  forcePathStyle: z.boolean(),
  hasCredentials: z.boolean(),
  createdAt: z.string(),
});
export type ObjectStoreView = z.infer<typeof ObjectStoreView>;

export const ListObjectsQuery = z.strictObject({
  prefix: z.string().max(1024).optional(),
  cursor: z.string().max(2048).optional(),
  limit: z.coerce.number().int().min(1).max(1000).optional(),
});

export const ObjectEntry = z.object({
  key: z.string(),
  size: z.number(),
  lastModified: z.string().nullable(),
  /** The store's ETag of this version (quotes removed); null when the store sent none. */
  etag: z.string().nullable(),
});
export type ObjectEntry = z.infer<typeof ObjectEntry>;

/** An ETag without the double quotes S3 puts around it: the API, plans and agents use it bare. */
export function unquoteEtag(etag: string): string {
  return etag.replace(/^"(.*)"$/, '$1');
}
export const ObjectPage = z.object({ objects: z.array(ObjectEntry), next: z.string().nullable() });
export type ObjectPage = z.infer<typeof ObjectPage>;

/** What an agent receives to reach a store for one task (over its authenticated socket only). */
export const StoreAccess = z.strictObject({
  bucket: z.string(),
  endpoint: z.string().optional(),
  region: z.string(),
  forcePathStyle: z.boolean(),
  credentials: z
    .strictObject({
      accessKeyId: z.string(),
      secretAccessKey: z.string(),
      sessionToken: z.string().optional(),
    })
    .optional(),
});
export type StoreAccess = z.infer<typeof StoreAccess>;
