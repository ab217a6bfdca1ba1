/**
 * Agent keys at the Scheduler: a hello's signature checked with WebCrypto Ed25519, and each
 * worker's key recorded at its first verified hello: the pre-registered one, or any key, which
 * then waits for the admin's approval.
 */
import { formatFingerprint, fromBase64Url, helloMessage } from '../protocol/index.ts';
import type { HelloFrame } from '../protocol/index.ts';
import type { Sql } from './db/sql.ts';
import type { WorkerRow } from './db/rows.ts';
import { bindKey } from './db/workers.ts';

const ED25519 = { name: 'Ed25519' };
const encoder = new TextEncoder();

/** True when `hello.signature` is the key's signature over this connection's nonce and address. */
export async function verifyHello(
  nonce: string,
  hello: Pick<HelloFrame, 'address' | 'publicKey' | 'signature'>,
): Promise<boolean> {
  try {
    const key = await crypto.subtle.importKey(
      'raw',
      fromBase64Url(hello.publicKey),
      ED25519,
      false,
      ['verify'],
    );
    return await crypto.subtle.verify(
      ED25519,
      key,
      fromBase64Url(hello.signature),
      encoder.encode(helloMessage(nonce, hello.address)),
    );
  } catch {
    // Not a key (a point off the curve), or not a signature: it does not verify.
    return false;
  }
}

/**
 * Binds the key to a worker that has none yet (when registered with a fingerprint, only the key
 * of that fingerprint), or checks it against the recorded one; true when the worker may go on
 * with this key.
 */
export function admitKey(
  sql: Sql,
  worker: Pick<WorkerRow, 'id' | 'public_key' | 'expected_fingerprint'>,
  key: { publicKey: string; fingerprint: string },
): boolean {
  if (worker.public_key !== null) return worker.public_key === key.publicKey;
  if (worker.expected_fingerprint !== null && worker.expected_fingerprint !== key.fingerprint)
    return false;
  // Fenced in the UPDATE: a key another hello bound since `worker` was read is not replaced.
  return bindKey(sql, worker.id, key.publicKey);
}

/** `SHA256:…` of a recorded key (base64url of the raw 32 bytes), or null for none. */
export async function keyFingerprint(publicKey: string): Promise<string>;
export async function keyFingerprint(publicKey: string | null): Promise<string | null>;
export async function keyFingerprint(publicKey: string | null): Promise<string | null> {
  if (publicKey === null) return null;
  const digest = await crypto.subtle.digest('SHA-256', fromBase64Url(publicKey));
  return formatFingerprint(new Uint8Array(digest));
}
