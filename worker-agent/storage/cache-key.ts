/**
 * The key the block cache's tags are made with, kept in the cache dir (`tag-key`, 0600) so that a
 * restarted agent still trusts the extents it wrote: its cache stays warm across restarts and
 * upgrades. The cache dir is the agent's own (0700) and hidden from sandboxed tasks; a key file
 * that is not a plain file of this user's with mode 0600 and 32 bytes is replaced by a new key
 * (the old extents then read as misses), never trusted.
 */
import { randomBytes } from 'node:crypto';
import { lstatSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const KEY_BYTES = 32;
export const CACHE_KEY_FILE = 'tag-key';

/** The cache's key from `dir` (which exists), made and saved there when missing or not trusted. */
export function loadCacheKey(dir: string, uid = process.getuid?.() ?? null): Uint8Array {
  const file = join(dir, CACHE_KEY_FILE);
  const kept = trustedKey(file, uid);
  if (kept) return kept;
  const key = randomBytes(KEY_BYTES);
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, key, { mode: 0o600 });
  renameSync(temp, file);
  return key;
}

function trustedKey(file: string, uid: number | null): Uint8Array | null {
  try {
    const stat = lstatSync(file);
    if (!stat.isFile() || (stat.mode & 0o077) !== 0 || (uid !== null && stat.uid !== uid)) {
      return null;
    }
    const key = readFileSync(file);
    return key.length === KEY_BYTES ? key : null;
  } catch {
    return null;
  }
}
