/**
 * How a secret token is named without being shown: its SHA-256, in hex. The Scheduler stores
 * tokens this way, and the control plane names a refused token to it this way.
 */
export async function hashToken(token: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(token));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}
