/**
 * Agent identity on the wire: the Scheduler sends a random nonce (`challenge`), the agent answers
 * with `hello` carrying its Ed25519 public key and a signature over `helloMessage(nonce, address)`.
 * Pure: each side signs and verifies with its own crypto (node:crypto, WebCrypto).
 */
import { z } from 'zod';

/** Base64url without padding of exactly `bytes` bytes. */
function base64UrlOf(bytes: number) {
  const length = Math.ceil((bytes * 4) / 3);
  return z
    .string()
    .length(length)
    .regex(/^[A-Za-z0-9_-]+$/, 'expected base64url without padding');
}

/** Bytes in a challenge nonce. */
export const NONCE_BYTES = 32;
export const Nonce = base64UrlOf(NONCE_BYTES);
/** A raw Ed25519 public key (32 bytes), base64url. */
export const AgentPublicKey = base64UrlOf(32);
/** An Ed25519 signature (64 bytes), base64url. */
export const AgentSignature = base64UrlOf(64);

/**
 * What the agent signs in `hello`: binds the Scheduler's nonce for this connection (so a recorded
 * hello cannot be replayed on another one) and the address the agent claims.
 */
export function helloMessage(nonce: string, address: string): string {
  return `tm-agent-hello\n${nonce}\n${address}`;
}

export function toBase64Url(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** Decodes base64url (padding optional); throws on characters outside the alphabet. */
export function fromBase64Url(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/**
 * A key's fingerprint as the agent logs and prints it (`tm-agent --print-fingerprint`) and the
 * worker view shows it: `SHA256:` and 43 characters of base64.
 */
export const AgentFingerprint = z
  .string()
  .regex(
    /^SHA256:[A-Za-z0-9+/]{43}$/,
    'expected SHA256: and 43 base64 characters, as tm-agent --print-fingerprint prints it',
  );

/** `SHA256:` and the unpadded base64 of the key's SHA-256 digest, as ssh prints fingerprints. */
export function formatFingerprint(sha256OfKey: Uint8Array): string {
  return `SHA256:${toBase64Url(sha256OfKey).replace(/-/g, '+').replace(/_/g, '/')}`;
}
