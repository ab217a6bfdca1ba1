/**
 * Presigned URLs in compact form: the part every URL of a task shares (where the store's keys
 * start, the signed query without its signature) travels once, and each object only as its key
 * (after a shared prefix, before a shared suffix) and its 64-hex signature. `objectUrl` is the one
 * builder of an object's URL: the Scheduler signs the path it makes, the agent rebuilds the URL
 * with it, so the two cannot disagree on a key's encoding.
 */
import { z } from 'zod';

/** RFC 3986 encoding of one path segment or query value, as SigV4's canonical request wants it. */
export function uriEncode(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** A key as S3's canonical URI has it: each segment encoded, `/` kept (so `..` stays a key's). */
export const encodeKey = (key: string) => key.split('/').map(uriEncode).join('/');

/** What all URLs of one task share. */
export const UrlScope = z.strictObject({
  /** Origin and path up to where a key starts, `/`-terminated (the bucket's, path- or host-style). */
  base: z
    .string()
    .max(2048)
    .regex(/^https?:\/\/[^?#]*\/$/, 'expected an http(s) URL ending with /'),
  /**
   * The SigV4 query, encoded and sorted, without `X-Amz-Signature` (algorithm, credential, date,
   * expiry, session token, signed headers). Absent: a store without credentials, plain URLs.
   */
  query: z.string().max(8192).optional(),
});
export type UrlScope = z.infer<typeof UrlScope>;

/** A 64-hex SigV4 signature. */
export const Signature = z.string().regex(/^[0-9a-f]{64}$/, 'expected 64 hex digits');

/**
 * Objects of one method (a step's inputs, at most `most`): key i is `prefix + keys[i] + suffix`,
 * its signature the i-th 64 hex digits of `signatures` (absent without credentials).
 */
export const signedObjects = (most: number) =>
  z
    .strictObject({
      prefix: z.string().max(1024),
      suffix: z.string().max(1024),
      keys: z.array(z.string()).max(most),
      signatures: z
        .string()
        .regex(/^(?:[0-9a-f]{64})*$/, 'expected 64 hex digits per key')
        .optional(),
    })
    .refine((o) => o.signatures === undefined || o.signatures.length === 64 * o.keys.length, {
      message: 'expected one signature per key',
    });
export const SignedObjects = signedObjects(100_000);
export type SignedObjects = z.infer<typeof SignedObjects>;

/** The URL of `key` in `scope`, signed by `signature` (ignored for plain URLs). */
export function objectUrl(scope: UrlScope, key: string, signature?: string): string {
  const plain = scope.base + encodeKey(key);
  return scope.query === undefined ? plain : `${plain}?${scope.query}&X-Amz-Signature=${signature}`;
}

/** The full keys of `objects`, in order. */
export const signedKeys = (objects: SignedObjects): string[] =>
  objects.keys.map((key) => objects.prefix + key + objects.suffix);

/** Each object's key and its rebuilt URL. */
export function signedUrls(scope: UrlScope, objects: SignedObjects): Map<string, string> {
  const urls = new Map<string, string>();
  objects.keys.forEach((key, i) => {
    const full = objects.prefix + key + objects.suffix;
    urls.set(full, objectUrl(scope, full, objects.signatures?.slice(64 * i, 64 * i + 64)));
  });
  return urls;
}

/**
 * `keys` with their longest shared prefix and suffix taken out (never overlapping in the shortest
 * key), and `sign(key)`'s signatures concatenated when it gives any.
 */
export function compactObjects(
  keys: readonly string[],
  sign: (key: string) => string | undefined,
): SignedObjects {
  let prefix = keys[0] ?? '';
  let suffix = prefix;
  for (const key of keys) {
    let p = 0;
    while (p < prefix.length && p < key.length && prefix[p] === key[p]) p++;
    prefix = prefix.slice(0, p);
    let s = 0;
    while (
      s < suffix.length &&
      s < key.length &&
      suffix[suffix.length - 1 - s] === key[key.length - 1 - s]
    )
      s++;
    suffix = suffix.slice(suffix.length - s);
  }
  const shortest = keys.reduce((n, key) => Math.min(n, key.length), Infinity);
  if (keys.length > 0) suffix = suffix.slice(Math.max(0, prefix.length + suffix.length - shortest));
  const signatures = keys.map(sign);
  return {
    prefix,
    suffix,
    keys: keys.map((key) => key.slice(prefix.length, key.length - suffix.length)),
    ...(signatures.every((s) => s !== undefined) && keys.length > 0
      ? { signatures: signatures.join('') }
      : {}),
  };
}
