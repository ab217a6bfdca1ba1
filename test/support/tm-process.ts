/** Runs `tm` (or another command) as a child process against a stack, with none of the caller's own tm settings. */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../../cli/local/repo.ts';

export const TM_BIN = join(repoRoot, 'cli', 'bin', 'tm.js');

export interface TmRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout as bytes, for binary output (Arrow). */
  bytes: Buffer;
}

export interface TmTarget {
  url: string;
  token: string;
  /** XDG_CONFIG_HOME for the child, so no real config file is read. */
  configHome: string;
}

/** The child's env: the target's URL and token; `extra` adds or (with undefined) removes variables. */
function tmEnv(target: TmTarget, extra: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, XDG_CONFIG_HOME: target.configHome };
  for (const key of ['TM_CONFIG', 'TM_CA_FILE', 'COLUMNS']) delete env[key];
  env.TM_URL = target.url;
  env.TM_TOKEN = target.token;
  for (const [key, value] of Object.entries(extra)) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}

export interface RunOptions {
  /** Variables to add, or (with undefined) to remove, over the target's env. */
  env?: Record<string, string | undefined>;
  /** What the child reads on stdin. */
  input?: string;
}

/** Runs `command ARGS…` in the target's tm environment to its end (for `script`, say). */
export function runProcess(
  target: TmTarget,
  command: string,
  args: readonly string[],
  options: RunOptions = {},
): Promise<TmRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: repoRoot, env: tmEnv(target, options.env ?? {}) });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      const bytes = Buffer.concat(out);
      resolve({
        code,
        stdout: bytes.toString('utf8'),
        stderr: Buffer.concat(err).toString(),
        bytes,
      });
    });
    child.stdin.end(options.input ?? '');
  });
}

/** Runs `tm ARGS…` to its end, with `input` on its stdin. */
export const runTmProcess = (target: TmTarget, args: readonly string[], options: RunOptions = {}) =>
  runProcess(target, process.execPath, [TM_BIN, ...args], options);
