/**
 * Pure option parser for tm-agent: argv, environment and config file in, validated options out
 * (which source wins: settings.ts).
 */
import { isAbsolute, join, resolve } from 'node:path';
import { parseLogFormat, redact, WorkerAddress, type LogFormat } from '../protocol/index.ts';
import { ConfigError, parseConfigFile, type FlagValues } from './config-file.ts';
import { parseExecutors, type ExecutorMap } from './executor-args.ts';
import {
  CONTROL_PLANE_SCHEMES,
  DEFAULT_CACHE_MB,
  DEFAULT_CONTROL_PLANE,
  DEFAULT_KILL_GRACE_MS,
  DEFAULT_STORE_TIMEOUT_MS,
  MAX_CACHE_MB,
  MAX_KILL_GRACE_MS,
  MAX_SLOTS,
  MAX_STORE_TIMEOUT_MS,
  MIN_STORE_TIMEOUT_MS,
} from './option-limits.ts';
import { readArgv, Settings } from './settings.ts';
import { readTlsFiles, type AgentTls } from './tls.ts';
import { USAGE } from './usage.ts';

export { USAGE };

const CONNECT_PATH = '/v1/agent/connect';

export interface AgentOptions extends AgentTls {
  /** WebSocket URL the agent dials: `<ws(s) control plane>/v1/agent/connect`. */
  connectUrl: string;
  /** Join token; sent only in the Authorization header, never logged. */
  token: string;
  /** `host:port` announced to the control plane and served with /healthz and /metrics. */
  address: string;
  /** Host and port the health server listens on, taken from `address`. */
  listenHost: string;
  listenPort: number;
  /** Where peers hand stream tasks their records (on listenHost); 0: any free port. */
  dataPort: number;
  slots: number;
  /** Absolute path of the directory command tasks run under. */
  workDir: string;
  acceptsCommands: boolean;
  /** Time between SIGTERM and SIGKILL when a task is cancelled or times out. */
  killGraceMs: number;
  /** How long one object store request may go unanswered. */
  storeTimeoutMs: number;
  /** What pipeline steps this agent runs: executor name → program (null: the name on the PATH). */
  executors: ExecutorMap;
  /** Absolute path of the agent's Ed25519 key file (PKCS8 PEM), made on first start. */
  keyFile: string;
  /** Where input blocks read from object stores are kept for later jobs; null: no cache. */
  cache: { dir: string; maxBytes: number } | null;
  /** What command and pipeline tasks run in: bwrap, none, or auto (bwrap if it works here). */
  isolation: 'bwrap' | 'none' | 'auto';
  /** Sandboxed tasks share the host's network (--allow-task-network); default: none. */
  taskNetwork: boolean;
  /** The agent's own files no task may read (key, token file, cache, TLS key), hidden by bwrap. */
  secretPaths: string[];
  /** How its log lines are written on stderr: readable text (default) or JSON. */
  logFormat: LogFormat;
}

export type ParsedArgs =
  | { kind: 'help'; text: string }
  /** `--version`: print the agent's version, exit. */
  | { kind: 'version' }
  | { kind: 'run'; options: AgentOptions }
  /** `--print-fingerprint`: print the key's fingerprint (making the key file if missing), exit. */
  | { kind: 'fingerprint'; keyFile: string };

/** What the parser may look at besides argv; injected so parsing stays deterministic. */
export interface ArgsEnvironment {
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
  defaultSlots: number;
  /** Reads a whole file as text; throws when it cannot. */
  readFile(path: string): string;
  isDirectory(path: string): boolean;
  isExecutable(path: string): boolean;
  /** The user's home directory, under which the default key file lives. */
  homeDir: string;
}

/**
 * Parses argv (without node and script) against the environment and the config file it names;
 * throws an Error, or a ConfigError when a config file is in play (main.ts: exit 78, not 2).
 */
export function parseArgs(argv: readonly string[], io: ArgsEnvironment): ParsedArgs {
  const secrets = [io.env.TM_JOIN_TOKEN?.trim() ?? ''].filter((token) => token.length > 0);
  try {
    return parseUnsafe(argv, io);
  } catch (error) {
    // Belt and braces: whatever a message quotes, the join token never leaves in it.
    const message = redact(error instanceof Error ? error.message : String(error), secrets);
    const configured = argv.some((arg) => arg === '--config' || arg.startsWith('--config='));
    throw error instanceof ConfigError || configured
      ? new ConfigError(message)
      : new Error(message);
  }
}

function parseUnsafe(argv: readonly string[], io: ArgsEnvironment): ParsedArgs {
  const given = readArgv(argv);
  if (given.values.has('--help') || given.values.has('-h')) return { kind: 'help', text: USAGE };
  if (given.values.has('--version')) return { kind: 'version' };
  const settings = new Settings(given, io.env, readConfigFile(given.values.get('--config'), io));
  if (given.values.has('--print-fingerprint'))
    return { kind: 'fingerprint', keyFile: keyFileOnly(settings, io) };

  const address = parseAddress(settings.value('--address'));
  const cache = parseCache(settings, address, io);
  const keyFile = parseKeyFile(settings.value('--key-file', 'TM_AGENT_KEY_FILE'), address, io);
  const token = parseToken(settings, io);
  return {
    kind: 'run',
    options: {
      connectUrl: parseControlPlane(settings.value('--control-plane', 'TM_CONTROL_PLANE')),
      token: token.token,
      address: address.address,
      listenHost: address.host,
      listenPort: address.port,
      slots:
        parseInteger('--slots', settings.value('--slots'), 1, MAX_SLOTS) ??
        clampSlots(io.defaultSlots),
      dataPort: parseInteger('--data-port', settings.value('--data-port'), 0, 65535) ?? 0,
      workDir: parseWorkDir(settings.value('--work-dir'), io),
      acceptsCommands: !settings.flag('--no-commands'),
      killGraceMs:
        parseInteger('--kill-grace-ms', settings.value('--kill-grace-ms'), 0, MAX_KILL_GRACE_MS) ??
        DEFAULT_KILL_GRACE_MS,
      storeTimeoutMs:
        parseInteger(
          '--store-timeout-ms',
          settings.value('--store-timeout-ms', 'TM_STORE_TIMEOUT_MS'),
          MIN_STORE_TIMEOUT_MS,
          MAX_STORE_TIMEOUT_MS,
        ) ?? DEFAULT_STORE_TIMEOUT_MS,
      executors: parseExecutors(settings.executors(), io),
      keyFile,
      cache,
      ...parseTls(settings, io),
      isolation: parseIsolation(settings.value('--isolation', 'TM_ISOLATION')),
      taskNetwork: settings.flag('--allow-task-network'),
      logFormat: parseLogFormat(settings.value('--log-format', 'TM_LOG_FORMAT'), '--log-format'),
      // The agent's own files a sandbox hides from tasks, wherever they lie.
      secretPaths: [
        keyFile,
        ...(token.file === undefined ? [] : [token.file]),
        ...pathOf(settings.value('--client-key', 'TM_CLIENT_KEY'), io),
        ...(cache ? [cache.dir] : []),
      ],
    },
  };
}

/** The settings in the `--config` file, if one is given; its own failures are ConfigErrors. */
function readConfigFile(given: string | undefined, io: ArgsEnvironment): FlagValues | null {
  if (given === undefined) return null;
  const path = resolve(io.cwd, given);
  let text: string;
  try {
    text = io.readFile(path);
  } catch {
    throw new ConfigError(`--config: cannot read ${path}`);
  }
  return parseConfigFile(path, text);
}

function parseControlPlane(raw: string | undefined): string {
  const text = raw === undefined || raw === '' ? DEFAULT_CONTROL_PLANE : raw;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error(`--control-plane: not a URL: ${text}`);
  }
  const scheme = CONTROL_PLANE_SCHEMES[url.protocol];
  if (scheme === undefined) {
    throw new Error(`--control-plane: expected an http, https, ws or wss URL, got ${url.protocol}`);
  }
  url.protocol = scheme;
  url.pathname = url.pathname.replace(/\/+$/, '') + CONNECT_PATH;
  url.search = '';
  url.hash = '';
  return url.toString();
}

/** The TLS files from options or the environment, paths relative to the cwd. */
function parseTls(settings: Settings, io: ArgsEnvironment): AgentTls {
  const path = (option: string, env: string) => pathOf(settings.value(option, env), io)[0];
  return readTlsFiles({
    caFile: path('--ca-file', 'TM_CA_FILE'),
    certFile: path('--client-cert', 'TM_CLIENT_CERT'),
    keyFile: path('--client-key', 'TM_CLIENT_KEY'),
    read: io.readFile,
  });
}

/**
 * The join token, never from argv: `--token-file`, else TM_JOIN_TOKEN, else the config's
 * `token_file`; with the file it was read from, which the sandbox hides.
 */
function parseToken(settings: Settings, io: ArgsEnvironment): { token: string; file?: string } {
  const fromEnv = io.env.TM_JOIN_TOKEN?.trim();
  const given = settings.given('--token-file');
  const file = given ?? (fromEnv ? undefined : settings.value('--token-file'));
  if (file === undefined) {
    if (!fromEnv) {
      throw new Error(
        'a join token is required: --token-file FILE, TM_JOIN_TOKEN, or token_file in the --config file',
      );
    }
    return { token: checkToken(fromEnv) };
  }
  const path = resolve(io.cwd, file);
  let token: string;
  try {
    token = io.readFile(path).trim();
  } catch {
    throw new Error(`--token-file: cannot read ${path}`);
  }
  if (token === '') throw new Error(`--token-file: ${path} is empty`);
  return { token: checkToken(token), file: path };
}

function checkToken(token: string): string {
  if (/[\s\0]/.test(token)) throw new Error('the join token must not contain whitespace');
  return token;
}

function parseAddress(raw: string | undefined): { address: string; host: string; port: number } {
  if (raw === undefined) throw new Error('--address HOST:PORT is required');
  const parsed = WorkerAddress.safeParse(raw);
  if (!parsed.success) {
    throw new Error(`--address: ${parsed.error.issues[0]?.message ?? 'invalid'} (got ${raw})`);
  }
  const colon = raw.lastIndexOf(':');
  const host = raw.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
  return { address: raw, host, port: Number(raw.slice(colon + 1)) };
}

function parseInteger(name: string, raw: string | undefined, min: number, max: number) {
  if (raw === undefined) return undefined;
  const value = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new Error(`${name}: expected an integer from ${min} to ${max}, got ${raw}`);
  }
  return value;
}

function clampSlots(slots: number): number {
  return Math.min(MAX_SLOTS, Math.max(1, Math.floor(slots)));
}

function parseWorkDir(raw: string | undefined, io: ArgsEnvironment): string {
  const dir = resolve(io.cwd, raw ?? '.');
  if (!io.isDirectory(dir)) throw new Error(`--work-dir: ${dir} is not an existing directory`);
  return dir;
}

/**
 * The key file: as given, else under the XDG state dir, one per address (so several agents on
 * one machine keep apart, and a reboot keeps the key).
 */
function parseKeyFile(
  raw: string | undefined,
  address: { address: string },
  io: ArgsEnvironment,
): string {
  if (raw !== undefined && raw !== '') return resolve(io.cwd, raw);
  const dir = agentDir(io, 'XDG_STATE_HOME', ['.local', 'state'], address);
  if (dir === null)
    throw new Error('no home directory for the default key file: give --key-file FILE');
  return join(dir, 'agent-key.pem');
}

/** The key file alone, for `--print-fingerprint`: no token, no work dir needed. */
function keyFileOnly(settings: Settings, io: ArgsEnvironment): string {
  const raw = settings.value('--key-file', 'TM_AGENT_KEY_FILE');
  const address = settings.value('--address');
  if (raw === undefined && address === undefined)
    throw new Error('--print-fingerprint needs --address HOST:PORT or --key-file FILE');
  return parseKeyFile(raw, raw ? { address: '' } : parseAddress(address), io);
}

/** The cache: as given, else under the XDG cache dir, one per address like the key file. */
function parseCache(
  settings: Settings,
  address: { address: string },
  io: ArgsEnvironment,
): AgentOptions['cache'] {
  const megabytes =
    parseInteger('--cache-mb', settings.value('--cache-mb', 'TM_CACHE_MB'), 0, MAX_CACHE_MB) ??
    DEFAULT_CACHE_MB;
  if (megabytes === 0) return null;
  const raw = settings.value('--cache-dir', 'TM_CACHE_DIR');
  const dir =
    raw !== undefined ? resolve(io.cwd, raw) : agentDir(io, 'XDG_CACHE_HOME', ['.cache'], address);
  // A cache only saves reads: without a home for it the agent runs uncached rather than not at all.
  return dir === null ? null : { dir, maxBytes: megabytes * 1024 * 1024 };
}

/** This agent's own directory under an XDG base dir (`variable`, else `fallback` under home). */
function agentDir(
  io: ArgsEnvironment,
  variable: 'XDG_STATE_HOME' | 'XDG_CACHE_HOME',
  fallback: readonly string[],
  address: { address: string },
): string | null {
  // XDG: a relative base dir is invalid and ignored.
  const xdg = io.env[variable];
  const base =
    xdg && isAbsolute(xdg) ? xdg : isAbsolute(io.homeDir) ? join(io.homeDir, ...fallback) : null;
  if (base === null) return null;
  return join(base, 'tm-agent', address.address.replace(/[^A-Za-z0-9.-]+/g, '_'));
}

function parseIsolation(raw: string | undefined): AgentOptions['isolation'] {
  if (raw === undefined || raw === '') return 'auto';
  if (raw === 'bwrap' || raw === 'none' || raw === 'auto') return raw;
  throw new Error(`--isolation: expected bwrap, none or auto, got ${raw}`);
}

/** A path setting made absolute against the cwd; none when it is not given. */
function pathOf(raw: string | undefined, io: ArgsEnvironment): string[] {
  return raw === undefined || raw === '' ? [] : [resolve(io.cwd, raw)];
}
