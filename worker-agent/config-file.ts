/**
 * tm-agent's configuration file (`--config FILE`), pure: its TOML or JSON text in, the settings
 * it holds out, each under the flag it stands for; a file that is not right is refused, naming
 * the file and the key, with a ConfigError (exit 78).
 */
import { dirname, extname, resolve } from 'node:path';
import { parse as parseToml, TomlError } from 'smol-toml';
import { z } from 'zod';
import { LOG_FORMATS, WorkerAddress } from '../protocol/index.ts';
import {
  CONTROL_PLANE_SCHEMES,
  MAX_CACHE_MB,
  MAX_KILL_GRACE_MS,
  MAX_SLOTS,
  MAX_STORE_TIMEOUT_MS,
  MIN_STORE_TIMEOUT_MS,
} from './option-limits.ts';

/** The agent's settings are wrong (sysexits' EX_CONFIG): restarting the agent will not help. */
export class ConfigError extends Error {}

/** What one source says: valued options by flag (`--slots` → '4'), flags by name → ''. */
export interface FlagValues {
  values: Map<string, string>;
  repeated: Map<string, string[]>;
}

const path = z.string(describedAs('a path')).min(1, 'expected a path, got an empty string');
const integer = (min: number, max: number) => {
  const expected = `an integer from ${min} to ${max}`;
  return z
    .int(describedAs(expected))
    .min(min, describedAs(expected))
    .max(max, describedAs(expected));
};
const flag = z.boolean(describedAs('true or false'));

/** The file's keys: the flags' names in snake_case (`--kill-grace-ms` → `kill_grace_ms`). */
export const AgentConfigFile = z
  .strictObject({
    control_plane: z
      .string(describedAs('a URL'))
      .refine(isControlPlaneUrl, 'expected an http, https, ws or wss URL'),
    token_file: path,
    address: z.string(describedAs('HOST:PORT')).pipe(WorkerAddress),
    slots: integer(1, MAX_SLOTS),
    data_port: integer(0, 65535),
    work_dir: path,
    /** false: refuse command tasks (`--no-commands`). */
    commands: flag,
    kill_grace_ms: integer(0, MAX_KILL_GRACE_MS),
    store_timeout_ms: integer(MIN_STORE_TIMEOUT_MS, MAX_STORE_TIMEOUT_MS),
    /** `NAME` or `NAME=PROGRAM`, as `--executor` takes them. */
    executors: z.array(z.string(describedAs('NAME or NAME=PROGRAM')), describedAs('a list')),
    executors_file: path,
    key_file: path,
    cache_dir: path,
    cache_mb: integer(0, MAX_CACHE_MB),
    ca_file: path,
    client_cert: path,
    client_key: path,
    isolation: z.enum(['bwrap', 'none', 'auto'], describedAs('bwrap, none or auto')),
    allow_task_network: flag,
    log_format: z.enum(LOG_FORMATS, describedAs('text or json')),
  })
  .partial();
export type AgentConfigFile = z.infer<typeof AgentConfigFile>;

/** The keys that name files or directories; relative ones are taken from the config's folder. */
const PATH_KEYS = [
  'token_file',
  'work_dir',
  'executors_file',
  'key_file',
  'cache_dir',
  'ca_file',
  'client_cert',
  'client_key',
] as const;

/** Parses a config file's text (TOML for `.toml`, JSON for `.json`) into flag values. */
export function parseConfigFile(file: string, text: string): FlagValues {
  const raw = parseText(file, text);
  if (Object.hasOwn(raw, 'token')) {
    throw new ConfigError(
      `${file}: token: the join token is not read from the config file, which sandboxed tasks can see under /etc; put it in a file of its own (mode 0600) and name that file with token_file`,
    );
  }
  const parsed = AgentConfigFile.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(`${file}: ${parsed.error.issues.map(describeIssue).join('; ')}`);
  }
  return toFlagValues(parsed.data, dirname(file));
}

function parseText(file: string, text: string): Record<string, unknown> {
  const format = extname(file).toLowerCase();
  let value: unknown;
  try {
    if (format === '.toml') value = parseToml(text);
    else if (format === '.json') value = JSON.parse(text);
    else throw new ConfigError(`${file}: a config file is .toml or .json, got "${format}"`);
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new ConfigError(`${file}: ${syntaxError(error)}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ConfigError(`${file}: expected a JSON object of settings`);
  }
  return value as Record<string, unknown>;
}

/** Where the syntax broke, never the text there: a line of the file may hold anything. */
function syntaxError(error: unknown): string {
  if (error instanceof TomlError) {
    const reason = error.message.split('\n')[0]?.replace(/^Invalid TOML document: /, '');
    return `not valid TOML: ${reason} (line ${error.line}, column ${error.column})`;
  }
  // V8's JSON messages quote the text around the fault; keep only its position.
  const position = /position (\d+)/.exec(error instanceof Error ? error.message : '')?.[1];
  return `not valid JSON${position === undefined ? '' : ` (at character ${position})`}`;
}

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => `unknown key ${key}`).join('; ');
  }
  const key = issue.path.map(String).join('.');
  return key === '' ? issue.message : `${key}: ${issue.message}`;
}

/** The file's settings under the flags they stand for, paths made absolute. */
function toFlagValues(config: AgentConfigFile, folder: string): FlagValues {
  const values = new Map<string, string>();
  const set = (flagName: string, value: string | number | undefined) => {
    if (value !== undefined) values.set(flagName, String(value));
  };
  const absolute = { ...config };
  for (const key of PATH_KEYS) {
    const value = config[key];
    if (value !== undefined) absolute[key] = resolve(folder, value);
  }
  set('--control-plane', absolute.control_plane);
  set('--token-file', absolute.token_file);
  set('--address', absolute.address);
  set('--slots', absolute.slots);
  set('--data-port', absolute.data_port);
  set('--work-dir', absolute.work_dir);
  if (absolute.commands === false) values.set('--no-commands', '');
  set('--kill-grace-ms', absolute.kill_grace_ms);
  set('--store-timeout-ms', absolute.store_timeout_ms);
  set('--executors-file', absolute.executors_file);
  set('--key-file', absolute.key_file);
  set('--cache-dir', absolute.cache_dir);
  set('--cache-mb', absolute.cache_mb);
  set('--ca-file', absolute.ca_file);
  set('--client-cert', absolute.client_cert);
  set('--client-key', absolute.client_key);
  set('--isolation', absolute.isolation);
  if (absolute.allow_task_network === true) values.set('--allow-task-network', '');
  set('--log-format', absolute.log_format);
  const repeated = new Map<string, string[]>();
  if (absolute.executors !== undefined) {
    repeated.set(
      '--executor',
      absolute.executors.map((entry) => executorEntry(entry, folder)),
    );
  }
  return { values, repeated };
}

/** `NAME=PROGRAM` with a relative PROGRAM taken from the config's folder, like its other paths. */
function executorEntry(entry: string, folder: string): string {
  const equals = entry.indexOf('=');
  if (equals < 0 || equals === entry.length - 1) return entry;
  return `${entry.slice(0, equals)}=${resolve(folder, entry.slice(equals + 1))}`;
}

function isControlPlaneUrl(text: string): boolean {
  try {
    return Object.hasOwn(CONTROL_PLANE_SCHEMES, new URL(text).protocol);
  } catch {
    return false;
  }
}

/** A zod error option: "expected WHAT, got WHAT-IT-WAS", never quoting a string's text. */
function describedAs(expected: string) {
  return {
    error: (issue: { input?: unknown }) => `expected ${expected}, got ${received(issue.input)}`,
  };
}

function received(input: unknown): string {
  if (typeof input === 'number') return String(input);
  if (typeof input === 'string') return input === '' ? 'an empty string' : 'a string';
  if (typeof input === 'boolean') return 'a boolean';
  if (Array.isArray(input)) return 'a list';
  if (input instanceof Date) return 'a date';
  if (input === null) return 'null';
  return typeof input === 'object' ? 'a table' : typeof input;
}
