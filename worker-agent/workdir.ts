/** Resolves a task's relative `path` to a real directory inside the work dir, or says why not. */
import { realpath, stat } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { containedSegments } from '../protocol/index.ts';

export type TaskDir = { ok: true; dir: string } | { ok: false; message: string };

/**
 * The lexical check (`..`, absolute paths) comes first; then the real path, with symlinks followed,
 * must still lie inside the work dir's real path and be a directory.
 */
export async function resolveTaskDir(workDir: string, relative: string): Promise<TaskDir> {
  const quoted = JSON.stringify(relative);
  const segments = containedSegments(relative);
  if (segments === null) {
    return { ok: false, message: `path ${quoted} escapes the agent work dir` };
  }
  let base: string;
  try {
    base = await realpath(workDir);
  } catch {
    return { ok: false, message: `the agent work dir ${workDir} does not exist` };
  }
  let dir: string;
  try {
    dir = await realpath(join(base, ...segments));
  } catch {
    return { ok: false, message: `path ${quoted} does not exist in the agent work dir` };
  }
  if (dir !== base && !dir.startsWith(base.endsWith(sep) ? base : base + sep)) {
    return {
      ok: false,
      message: `path ${quoted} leads outside the agent work dir (through a symlink)`,
    };
  }
  const isDirectory = await stat(dir).then(
    (info) => info.isDirectory(),
    () => false,
  );
  if (!isDirectory) {
    return { ok: false, message: `path ${quoted} is not a directory` };
  }
  return { ok: true, dir };
}
