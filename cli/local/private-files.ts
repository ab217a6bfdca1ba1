/**
 * The local stack's state is its owner's alone: the join and admin tokens, agent keys, and
 * wrangler's persisted Durable Object state, whose SQLite holds object stores' secret keys. The
 * stack's children run with umask 077 (see child.ts), so what they write is 0600 or 0700;
 * `makePrivate` fixes a state dir an older version left readable.
 */
import { chmodSync, lstatSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** The umask of the stack's children: nothing they write is readable by group or others. */
export const PRIVATE_UMASK = 0o077;

/**
 * Makes `dir` (created 0700 if missing) and everything under it readable by its owner only,
 * keeping the owner's bits; symbolic links are neither followed nor changed. Returns the paths
 * whose mode it changed.
 */
export function makePrivate(dir: string): string[] {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const changed: string[] = [];
  const visit = (path: string) => {
    const stat = lstatSync(path, { throwIfNoEntry: false });
    if (!stat || stat.isSymbolicLink()) return;
    if ((stat.mode & PRIVATE_UMASK) !== 0) {
      chmodSync(path, stat.mode & 0o700);
      changed.push(path);
    }
    if (stat.isDirectory()) for (const name of readdirSync(path)) visit(join(path, name));
  };
  visit(dir);
  return changed;
}
