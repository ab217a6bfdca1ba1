/** Join tokens: random, shown once, stored as SHA-256 hashes. */

export function newToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return (
    'tmj_' +
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
