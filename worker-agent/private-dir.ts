/**
 * Folders only this agent's user may use, for the process-group ledger and scratch files. A
 * predictable path under a shared /tmp could be made beforehand by another user, or be a symlink
 * to elsewhere; so a folder is used only if it is a real directory (lstat: a symlink is refused,
 * not followed) owned by this user, and made 0700 if its mode was looser.
 */
import { chmodSync, lstatSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The uid the checks compare with (none on Windows, where they are skipped). */
const myUid = () => (typeof process.getuid === 'function' ? process.getuid() : null);

/**
 * Makes `dir` if missing (0700; its parent must exist) and checks it is this user's own real
 * directory, closed to others; throws naming what is wrong otherwise.
 */
export function ensurePrivateDir(dir: string, uid: number | null = myUid()): string {
  try {
    mkdirSync(dir, { mode: 0o700 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  const stat = lstatSync(dir);
  if (stat.isSymbolicLink()) throw new Error(`${dir} is a symbolic link; refusing to use it`);
  if (!stat.isDirectory()) throw new Error(`${dir} is not a directory; refusing to use it`);
  if (uid !== null && stat.uid !== uid)
    throw new Error(`${dir} belongs to uid ${stat.uid}, not to this user (${uid}); refusing it`);
  if ((stat.mode & 0o077) !== 0) chmodSync(dir, 0o700);
  return dir;
}

/**
 * This user's folder for the agent's runtime files: `$XDG_RUNTIME_DIR/tm-agent` (a folder the
 * system made for this user alone) when set, else `<tmp>/tm-agent-<uid>`; checked as above.
 */
export function agentRuntimeDir(env: NodeJS.ProcessEnv = process.env, tmp = tmpdir()): string {
  const uid = myUid();
  const runtime = env.XDG_RUNTIME_DIR;
  if (runtime) return ensurePrivateDir(join(runtime, 'tm-agent'), uid);
  return ensurePrivateDir(join(tmp, `tm-agent-${uid ?? 'user'}`), uid);
}

/**
 * A fresh scratch folder: a random name made atomically with mode 0700 (mkdtemp), so no other
 * user can have made it first. In the OS temp dir, not the runtime dir: $XDG_RUNTIME_DIR is a
 * small tmpfs, and scratch files are downloaded inputs.
 */
export function privateScratchDir(prefix: string, parent = tmpdir()): string {
  return mkdtempSync(join(parent, prefix));
}
