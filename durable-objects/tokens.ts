/** Secret tokens (join, tenant): random, shown once, stored as SHA-256 hashes (protocol/token-hash.ts). */

/** A token of 32 random bytes; the prefix (`tmj_` join, `tmt_` tenant) tells them apart in a leak scan. */
export function newToken(prefix: 'tmj_' | 'tmt_'): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return (
    prefix +
    btoa(String.fromCharCode(...bytes)).replace(
      /[+/=]/g,
      (c) => ({ '+': '-', '/': '_', '=': '' })[c] ?? '',
    )
  );
}
