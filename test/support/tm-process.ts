/** Runs `tm` as a child process against a stack, with none of the caller's own tm settings. */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../../cli/local/repo.ts';

const TM = join(repoRoot, 'cli', 'bin', 'tm.js');

export interface TmRun {
  code: number | null;
  stdout: string;
  stderr: string;
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

/** Runs `tm ARGS…` to its end, with `input` on its stdin. */
export function runTmProcess(
  target: TmTarget,
  args: readonly string[],
  options: { env?: Record<string, string | undefined>; input?: string } = {},
): Promise<TmRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [TM, ...args], {
      cwd: repoRoot,
      env: tmEnv(target, options.env ?? {}),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}
