/**
 * Presigned S3 URLs (SigV4 query-string auth): what a task gets instead of the store's keys. One
 * URL names one method on one object and expires; Range and If-Match headers stay usable because
 * only `host` is signed. Synchronous on node:crypto (workerd's nodejs_compat), so a dispatch round
 * signs its assignments without an await: WebCrypto's HMAC is async, and an await there would let
 * other events interleave between a transaction and the frames it sends.
 */
import { createHash, createHmac } from 'node:crypto';
import {
  encodeKey,
  objectUrl,
  uriEncode,
  type StoreAccess,
  type UrlScope,
} from '../../protocol/index.ts';

/** SigV4's longest expiry (7 days). */
export const MAX_EXPIRES_SECONDS = 604_800;

export type PresignMethod = 'GET' | 'PUT';

/** `20130524T000000Z`. */
function amzDate(now: Date): string {
  return now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}

const hmac = (key: string | Buffer, data: string) =>
  createHmac('sha256', key).update(data, 'utf8').digest();

/** Where a store's keys start: the URL before a key's encoded path (`/`-terminated), and its host. */
export function storeBase(store: StoreAccess): { base: string; host: string } {
  const endpoint = new URL(store.endpoint ?? `https://s3.${store.region}.amazonaws.com`);
  const root = endpoint.pathname.replace(/\/+$/, '');
  if (store.forcePathStyle) {
    return { base: `${endpoint.origin}${root}/${store.bucket}/`, host: endpoint.host };
  }
  const host = `${store.bucket}.${endpoint.host}`;
  return { base: `${endpoint.protocol}//${host}${root}/`, host };
}

/** Where an object is: origin and host (port included) and its encoded path, built as text so `..` stays a key's. */
export function objectLocation(
  store: StoreAccess,
  key: string,
): { origin: string; host: string; path: string } {
  const { base, host } = storeBase(store);
  const origin = new URL(base).origin;
  return { origin, host, path: base.slice(origin.length) + encodeKey(key) };
}

/** A task's signing scope: what its URLs share, and the signature of one method on one key. */
export interface SigningScope {
  scope: UrlScope;
  /** The key's 64-hex signature; undefined for a store without credentials (plain URLs). */
  sign(method: PresignMethod, key: string): string | undefined;
}

/**
 * The scope of URLs that let their holder `method` one object of `store` for `expiresSeconds`
 * from `now` (1 s to 7 days), and nothing else. The query and the signing key are made once: each
 * signature then costs one SHA-256 and one HMAC. A store without credentials gets plain URLs (a
 * public bucket).
 */
export function signingScope(store: StoreAccess, expiresSeconds: number, now: Date): SigningScope {
  const { base, host } = storeBase(store);
  const basePath = base.slice(new URL(base).origin.length);
  const credentials = store.credentials;
  if (!credentials) return { scope: { base }, sign: () => undefined };
  const expires = Math.min(MAX_EXPIRES_SECONDS, Math.max(1, Math.ceil(expiresSeconds)));
  const date = amzDate(now);
  const day = date.slice(0, 8);
  const scope = `${day}/${store.region}/s3/aws4_request`;
  const params: [string, string][] = [
    ['X-Amz-Algorithm', 'AWS4-HMAC-SHA256'],
    ['X-Amz-Credential', `${credentials.accessKeyId}/${scope}`],
    ['X-Amz-Date', date],
    ['X-Amz-Expires', String(expires)],
    ...(credentials.sessionToken
      ? [['X-Amz-Security-Token', credentials.sessionToken] as [string, string]]
      : []),
    ['X-Amz-SignedHeaders', 'host'],
  ];
  const query = params
    .map(([name, value]) => `${uriEncode(name)}=${uriEncode(value)}`)
    .sort()
    .join('&');
  const signingKey = hmac(
    hmac(hmac(hmac(`AWS4${credentials.secretAccessKey}`, day), store.region), 's3'),
    'aws4_request',
  );
  const head = `AWS4-HMAC-SHA256\n${date}\n${scope}\n`;
  return {
    scope: { base, query },
    sign(method, key) {
      const path = basePath + encodeKey(key);
      const canonical = `${method}\n${path}\n${query}\nhost:${host}\n\nhost\nUNSIGNED-PAYLOAD`;
      const digest = createHash('sha256').update(canonical, 'utf8').digest('hex');
      return hmac(signingKey, head + digest).toString('hex');
    },
  };
}

/** A signer of whole URLs in one scope (see signingScope); each built by protocol's objectUrl. */
export function presigner(
  store: StoreAccess,
  expiresSeconds: number,
  now: Date,
): (method: PresignMethod, key: string) => string {
  const { scope, sign } = signingScope(store, expiresSeconds, now);
  return (method, key) => objectUrl(scope, key, sign(method, key));
}

/** One URL: `presigner(store, expiresSeconds, now)(method, key)`. */
export function presignUrl(
  store: StoreAccess,
  method: PresignMethod,
  key: string,
  expiresSeconds: number,
  now: Date,
): string {
  return presigner(store, expiresSeconds, now)(method, key);
}
