/** The local cluster's join token: made once, kept under the state dir, readable by its owner only. */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

export function ensureJoinToken(stateDir: string): { token: string; file: string } {
  mkdirSync(stateDir, { recursive: true });
  const file = join(stateDir, 'join-token');
  if (!existsSync(file))
    writeFileSync(file, `tmj_${randomBytes(32).toString('base64url')}\n`, { mode: 0o600 });
  return { token: readFileSync(file, 'utf8').trim(), file };
}
