/** Where `tm` finds the control plane: flags, then env, then the config file, then the default. */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { UsageError } from './exit.ts';
import { normalizeBaseUrl } from './sdk/client.ts';

export const DEFAULT_URL = 'http://localhost:8080';

export interface Config {
  url: string;
  token?: string;
  /**
   * Where the URL came from, for error hints: `--url`, `--master-addr`, `TM_URL`, the file's path,
   * or `default`.
   */
  urlSource: string;
  /** PEM CA certificate(s) to trust for https besides the system's; a file's is relative to it. */
  caFile?: string;
}

export interface ConfigInputs {
  /**
   * `--master-addr HOST:PORT` is another name for `--url` (`http://HOST:PORT`). `--token-file`
   * names a file holding the token: a token itself never goes on a command line.
   */
  flags: { url?: string; masterAddr?: string; tokenFile?: string; caFile?: string };
  env: Record<string, string | undefined>;
  /** Reads a file's text, or returns undefined when it does not exist. */
  readFile?: (path: string) => string | undefined;
  /** The local stack's admin token file, used when nothing else gives a token for a loopback URL. */
  localTokenFile?: string;
  home?: string;
}

/** The config file's path: `$TM_CONFIG`, else `$XDG_CONFIG_HOME/tm/config.json`, else `~/.config/tm/config.json`. */
export function configPath(env: ConfigInputs['env'], home = homedir()): string {
  if (env.TM_CONFIG) return env.TM_CONFIG;
  return join(env.XDG_CONFIG_HOME || join(home, '.config'), 'tm', 'config.json');
}

export function resolveConfig(inputs: ConfigInputs): Config {
  const { flags, env } = inputs;
  const read = inputs.readFile ?? readIfExists;
  const path = configPath(env, inputs.home);
  const text = read(path);
  if (text === undefined && env.TM_CONFIG)
    throw new UsageError(`config file ${path} (from TM_CONFIG) does not exist`);
  const file = text === undefined ? {} : parseConfigFile(text, path);
  const pick = (
    ...candidates: [string | undefined, string][]
  ): [string, string] | [undefined, undefined] => {
    for (const [value, source] of candidates) if (value) return [value, source];
    return [undefined, undefined];
  };
  if (flags.url !== undefined && flags.masterAddr !== undefined)
    throw new UsageError('give --url or --master-addr, not both: they name the same thing');
  const [url, urlSource] = pick(
    [flags.url, '--url'],
    [flags.masterAddr && normalizeBaseUrl(flags.masterAddr), '--master-addr'],
    [env.TM_URL, 'TM_URL'],
    [file.url, path],
  );
  const resolvedUrl = url ?? DEFAULT_URL;
  const local =
    inputs.localTokenFile && isLoopback(resolvedUrl)
      ? read(inputs.localTokenFile)?.trim()
      : undefined;
  const [token] = pick(
    [
      flags.tokenFile === undefined ? undefined : readTokenFile(flags.tokenFile, read),
      '--token-file',
    ],
    [env.TM_TOKEN, 'TM_TOKEN'],
    [file.token, path],
    [local, 'local stack'],
  );
  const fileCa = file.caFile ? resolve(dirname(path), file.caFile) : undefined;
  const [caFile] = pick(
    [flags.caFile, '--ca-file'],
    [env.TM_CA_FILE, 'TM_CA_FILE'],
    [fileCa, path],
  );
  return {
    url: resolvedUrl,
    urlSource: urlSource ?? 'default',
    ...(token ? { token } : {}),
    ...(caFile ? { caFile } : {}),
  };
}

/** The token in `--token-file`'s file, trimmed; a usage error naming the file when it has none. */
function readTokenFile(path: string, read: (path: string) => string | undefined): string {
  const token = read(path)?.trim();
  if (!token) throw new UsageError(`--token-file ${path}: no such file, or it is empty`);
  return token;
}

/** The local stack listens on loopback only; its token is never sent anywhere else. */
export function isLoopback(url: string): boolean {
  try {
    const host = new URL(url).hostname;
    return host === 'localhost' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
  } catch {
    return false;
  }
}

/** The CA file's text, or a usage error naming the file. */
export function readCaFile(
  caFile: string,
  read: (path: string) => string | Buffer = (path) => readFileSync(path),
): Buffer {
  let pem: Buffer;
  try {
    pem = Buffer.from(read(caFile));
  } catch (error) {
    const why = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new UsageError(`cannot read the CA file ${caFile} (${why})`);
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----'))
    throw new UsageError(`the CA file ${caFile} holds no PEM certificate`);
  return pem;
}

interface ConfigFile {
  url?: string;
  token?: string;
  caFile?: string;
}

function parseConfigFile(text: string, path: string): ConfigFile {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new UsageError(
      `config file ${path} is not valid JSON: ${error instanceof Error ? error.message : error}`,
    );
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw new UsageError(
      `config file ${path} must hold a JSON object like {"url": "…", "token": "…"}`,
    );
  const { url, token, caFile } = json as Record<string, unknown>;
  for (const [key, value] of Object.entries({ url, token, caFile }))
    if (value !== undefined && typeof value !== 'string')
      throw new UsageError(`config file ${path}: "${key}" must be a string`);
  return { url, token, caFile } as ConfigFile;
}

function readIfExists(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}
