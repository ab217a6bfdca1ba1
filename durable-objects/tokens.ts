/** Secret tokens (join, tenant): random, shown once, stored as SHA-256 hashes. */

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

export async function hashToken(token: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(token));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}
