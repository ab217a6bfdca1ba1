/** The local cluster's secrets: made once, kept under the state dir, readable by their owner only. */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

export interface Secret {
  token: string;
  file: string;
}

function ensureSecret(stateDir: string, name: string, prefix: string): Secret {
  mkdirSync(stateDir, { recursive: true });
  const file = join(stateDir, name);
  if (!existsSync(file))
    writeFileSync(file, `${prefix}${randomBytes(32).toString('base64url')}\n`, { mode: 0o600 });
  return { token: readFileSync(file, 'utf8').trim(), file };
}

/** The cluster join token agents connect with. */
export const ensureJoinToken = (stateDir: string) => ensureSecret(stateDir, 'join-token', 'tmj_');

/** The admin token (the Worker's TM_ADMIN_TOKEN), which local clients pick up from this file. */
export const ensureAdminToken = (stateDir: string) =>
  ensureSecret(stateDir, ADMIN_TOKEN_FILE, 'tma_');

export const ADMIN_TOKEN_FILE = 'admin-token';
