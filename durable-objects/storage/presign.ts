/**
 * Presigned S3 URLs (SigV4 query-string auth): what a task gets instead of the store's keys. One
 * URL names one method on one object and expires; Range and If-Match headers stay usable because
 * only `host` is signed. Synchronous on node:crypto (workerd's nodejs_compat), so a dispatch round
 * signs its assignments without an await: WebCrypto's HMAC is async, and an await there would let
 * other events interleave between a transaction and the frames it sends.
 */
import { createHash, createHmac } from 'node:crypto';
import type { StoreAccess } from '../../protocol/index.ts';

/** SigV4's longest expiry (7 days). */
export const MAX_EXPIRES_SECONDS = 604_800;

export type PresignMethod = 'GET' | 'PUT';

/** RFC 3986 encoding of one path segment or query value, as SigV4 wants it. */
function encode(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

const encodeKey = (key: string) => key.split('/').map(encode).join('/');

/** `20130524T000000Z`. */
function amzDate(now: Date): string {
  return now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}

const hmac = (key: string | Buffer, data: string) =>
  createHmac('sha256', key).update(data, 'utf8').digest();

/** Where an object is: origin and host (port included) and its encoded path, built as text so `..` stays a key's. */
export function objectLocation(
  store: StoreAccess,
  key: string,
): { origin: string; host: string; path: string } {
  const path = encodeKey(key);
  const base = new URL(store.endpoint ?? `https://s3.${store.region}.amazonaws.com`);
  const root = base.pathname.replace(/\/+$/, '');
  if (store.forcePathStyle) {
    return { origin: base.origin, host: base.host, path: `${root}/${store.bucket}/${path}` };
  }
  const host = `${store.bucket}.${base.host}`;
  return { origin: `${base.protocol}//${host}`, host, path: `${root}/${path}` };
}

/**
 * A signer of URLs that let their holder `method` one object of `store` for `expiresSeconds` from
 * `now` (1 s to 7 days), and nothing else. The query and the signing key are made once: each URL
 * then costs one SHA-256 and one HMAC. A store without credentials gets plain URLs (a public bucket).
 */
export function presigner(
  store: StoreAccess,
  expiresSeconds: number,
  now: Date,
): (method: PresignMethod, key: string) => string {
  const credentials = store.credentials;
  if (!credentials) {
    return (_method, key) => {
      const { origin, path } = objectLocation(store, key);
      return `${origin}${path}`;
    };
  }
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
    .map(([name, value]) => `${encode(name)}=${encode(value)}`)
    .sort()
    .join('&');
  const signingKey = hmac(
    hmac(hmac(hmac(`AWS4${credentials.secretAccessKey}`, day), store.region), 's3'),
    'aws4_request',
  );
  const head = `AWS4-HMAC-SHA256\n${date}\n${scope}\n`;
  return (method, key) => {
    const { origin, host, path } = objectLocation(store, key);
    const canonical = `${method}\n${path}\n${query}\nhost:${host}\n\nhost\nUNSIGNED-PAYLOAD`;
    const digest = createHash('sha256').update(canonical, 'utf8').digest('hex');
    const signature = hmac(signingKey, head + digest).toString('hex');
    return `${origin}${path}?${query}&X-Amz-Signature=${signature}`;
  };
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
