/** Pure command-line parser for tm-agent: argv and environment in, validated options out. */
import { isAbsolute, join, resolve } from 'node:path';
import { WorkerAddress } from '../protocol/index.ts';
import { parseExecutors, type ExecutorMap } from './executor-args.ts';
import { readTlsFiles, type AgentTls } from './tls.ts';

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
}

export type ParsedArgs =
  | { kind: 'help'; text: string }
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

export const DEFAULT_CONTROL_PLANE = 'http://localhost:8080';
export const DEFAULT_KILL_GRACE_MS = 5000;
export const DEFAULT_STORE_TIMEOUT_MS = 30_000;
export const DEFAULT_CACHE_MB = 2048;
const MAX_CACHE_MB = 16 * 1024 * 1024;
const MAX_STORE_TIMEOUT_MS = 600_000;
const MAX_SLOTS = 1024;
const MAX_KILL_GRACE_MS = 600_000;
const CONNECT_PATH = '/v1/agent/connect';

export const USAGE = `Usage:
  tm-agent --address HOST:PORT (--token TOKEN | --token-file FILE) [options]
  tm-agent --print-fingerprint (--address HOST:PORT | --key-file FILE)

Runs tasks for a TM Scheduler control plane; dials out to it over WebSocket.

Options:
  --control-plane URL   control plane URL, http(s) or ws(s) (env TM_CONTROL_PLANE;
                        default ${DEFAULT_CONTROL_PLANE})
  --token TOKEN         join token (env TM_JOIN_TOKEN)
  --token-file FILE     read the join token from FILE
  --address HOST:PORT   address of this agent; /healthz and /metrics are served there (required)
  --slots N             concurrent command tasks (default: available CPUs)
  --work-dir DIR        directory command tasks run under (default: current directory)
  --no-commands         refuse command tasks
  --kill-grace-ms N     time between SIGTERM and SIGKILL on cancel or timeout
                        (default ${DEFAULT_KILL_GRACE_MS})
  --store-timeout-ms N  how long one object store request may go unanswered
                        (env TM_STORE_TIMEOUT_MS; default ${DEFAULT_STORE_TIMEOUT_MS})
  --executor NAME[=PROGRAM]
                        run pipeline steps of executor NAME; a command whose program is
                        NAME runs PROGRAM (default: NAME on the PATH); repeatable
  --executors-file FILE JSON object of executor names to programs (or null)
                        (without either option: env TM_EXECUTORS, a comma list of NAME[=PROGRAM])
  --key-file FILE       this agent's private key, made on first start (env TM_AGENT_KEY_FILE;
                        default $XDG_STATE_HOME/tm-agent/HOST_PORT/agent-key.pem, with
                        XDG_STATE_HOME defaulting to ~/.local/state)
  --cache-dir DIR       where input blocks read from object stores are cached for later jobs
                        (env TM_CACHE_DIR; default $XDG_CACHE_HOME/tm-agent/HOST_PORT, with
                        XDG_CACHE_HOME defaulting to ~/.cache; none without a home directory)
  --cache-mb N          most megabytes the cache holds, least recently used dropped first;
                        0 turns it off (env TM_CACHE_MB; default ${DEFAULT_CACHE_MB})
  --ca-file FILE        PEM CA certificate(s) to trust for wss, besides the system's
                        (env TM_CA_FILE; e.g. .tm/tls/ca.pem of \`tm up --tls\`)
  --client-cert FILE    PEM client certificate for a control plane behind mTLS, such as
                        Cloudflare API Shield's (env TM_CLIENT_CERT; with --client-key)
  --client-key FILE     its PEM private key (env TM_CLIENT_KEY)
  --isolation MODE      what command and pipeline tasks run in: bwrap (a bubblewrap sandbox;
                        refuse to start without it), none, or auto (bwrap if it works here,
                        else none with a warning) (env TM_ISOLATION; default auto)
  --allow-task-network  sandboxed tasks share this machine's network (default: they have
                        none, so a task cannot reach the control plane, the store or the
                        cloud's metadata service with anything it found)
  --print-fingerprint   print the fingerprint of this agent's key (making the key file if
                        there is none) and exit, without connecting: register the worker
                        with it (tm register-worker HOST:PORT --fingerprint SHA256:…)
  --help                show this help
`;

/** Options that take a value; the rest are flags. */
const VALUED = new Set([
  '--control-plane',
  '--token',
  '--token-file',
  '--address',
  '--slots',
  '--work-dir',
  '--kill-grace-ms',
  '--store-timeout-ms',
  '--executors-file',
  '--key-file',
  '--cache-dir',
  '--cache-mb',
  '--ca-file',
  '--client-cert',
  '--client-key',
  '--isolation',
]);
/** Options that may be given more than once; each value is kept. */
const REPEATED = new Set(['--executor']);
const FLAGS = new Set([
  '--allow-task-network',
  '--no-commands',
  '--print-fingerprint',
  '--help',
  '-h',
]);

/** Parses argv (without node and script) against the environment; throws a usage Error. */
export function parseArgs(argv: readonly string[], io: ArgsEnvironment): ParsedArgs {
  const secrets = tokenCandidates(argv, io.env);
  try {
    return parseUnsafe(argv, io);
  } catch (error) {
    // Belt and braces: whatever a message quotes, the join token never leaves in it.
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(redact(message, secrets));
  }
}

function parseUnsafe(argv: readonly string[], io: ArgsEnvironment): ParsedArgs {
  const { values, repeated } = readArgv(argv);
  if (values.has('--help') || values.has('-h')) return { kind: 'help', text: USAGE };
  if (values.has('--print-fingerprint'))
    return { kind: 'fingerprint', keyFile: keyFileOnly(values, io) };

  const address = parseAddress(values.get('--address'));
  return {
    kind: 'run',
    options: {
      connectUrl: parseControlPlane(values.get('--control-plane') ?? io.env.TM_CONTROL_PLANE),
      token: parseToken(values, io),
      address: address.address,
      listenHost: address.host,
      listenPort: address.port,
      slots:
        parseInteger('--slots', values.get('--slots'), 1, MAX_SLOTS) ?? clampSlots(io.defaultSlots),
      workDir: parseWorkDir(values.get('--work-dir'), io),
      acceptsCommands: !values.has('--no-commands'),
      killGraceMs:
        parseInteger('--kill-grace-ms', values.get('--kill-grace-ms'), 0, MAX_KILL_GRACE_MS) ??
        DEFAULT_KILL_GRACE_MS,
      storeTimeoutMs:
        parseInteger(
          '--store-timeout-ms',
          values.get('--store-timeout-ms') ?? io.env.TM_STORE_TIMEOUT_MS,
          100,
          MAX_STORE_TIMEOUT_MS,
        ) ?? DEFAULT_STORE_TIMEOUT_MS,
      executors: parseExecutors(
        {
          flags: repeated.get('--executor') ?? [],
          file: values.get('--executors-file'),
          env: io.env.TM_EXECUTORS,
        },
        io,
      ),
      keyFile: parseKeyFile(values.get('--key-file') ?? io.env.TM_AGENT_KEY_FILE, address, io),
      cache: parseCache(values, address, io),
      ...parseTls(values, io),
      isolation: parseIsolation(values.get('--isolation') ?? io.env.TM_ISOLATION),
      taskNetwork: values.has('--allow-task-network'),
      secretPaths: secretPaths(values, address, io),
    },
  };
}

/** Splits argv into option → value (`--opt value` or `--opt=value`); flags map to ''. */
function readArgv(argv: readonly string[]): {
  values: Map<string, string>;
  repeated: Map<string, string[]>;
} {
  const values = new Map<string, string>();
  const repeated = new Map<string, string[]>();
  for (let index = 0; index < argv.length; index++) {
    const arg = argv[index] ?? '';
    const equals = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const name = equals > 0 ? arg.slice(0, equals) : arg;
    if (FLAGS.has(name)) {
      if (equals > 0) throw new Error(`${name} takes no value`);
      values.set(name, '');
      continue;
    }
    if (!VALUED.has(name) && !REPEATED.has(name)) {
      // Never echo a positional argument: it may be a mistyped token.
      throw new Error(
        name.startsWith('-') ? `unknown option ${name}` : `unexpected argument #${index + 1}`,
      );
    }
    if (values.has(name)) throw new Error(`${name} given more than once`);
    const value = equals > 0 ? arg.slice(equals + 1) : argv[++index];
    if (value === undefined) throw new Error(`${name} needs a value`);
    if (REPEATED.has(name)) repeated.set(name, [...(repeated.get(name) ?? []), value]);
    else values.set(name, value);
  }
  return { values, repeated };
}

function parseControlPlane(raw: string | undefined): string {
  const text = raw === undefined || raw === '' ? DEFAULT_CONTROL_PLANE : raw;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error(`--control-plane: not a URL: ${text}`);
  }
  const scheme = { 'http:': 'ws:', 'ws:': 'ws:', 'https:': 'wss:', 'wss:': 'wss:' }[url.protocol];
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
function parseTls(values: Map<string, string>, io: ArgsEnvironment): AgentTls {
  const path = (option: string, env: string) => {
    const raw = values.get(option) ?? io.env[env];
    return raw === undefined || raw === '' ? undefined : resolve(io.cwd, raw);
  };
  return readTlsFiles({
    caFile: path('--ca-file', 'TM_CA_FILE'),
    certFile: path('--client-cert', 'TM_CLIENT_CERT'),
    keyFile: path('--client-key', 'TM_CLIENT_KEY'),
    read: io.readFile,
  });
}

function parseToken(values: Map<string, string>, io: ArgsEnvironment): string {
  const inline = values.get('--token');
  const file = values.get('--token-file');
  if (inline !== undefined && file !== undefined) {
    throw new Error('give either --token or --token-file, not both');
  }
  let token: string | undefined;
  if (file !== undefined) {
    const path = isAbsolute(file) ? file : resolve(io.cwd, file);
    try {
      token = io.readFile(path).trim();
    } catch {
      throw new Error(`--token-file: cannot read ${path}`);
    }
    if (token === '') throw new Error(`--token-file: ${path} is empty`);
  } else {
    token = inline ?? io.env.TM_JOIN_TOKEN;
  }
  if (token === undefined || token.trim() === '') {
    throw new Error('a join token is required: --token, --token-file or TM_JOIN_TOKEN');
  }
  if (/[\s\0]/.test(token.trim())) throw new Error('the join token must not contain whitespace');
  return token.trim();
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
function keyFileOnly(values: Map<string, string>, io: ArgsEnvironment): string {
  const raw = values.get('--key-file') ?? io.env.TM_AGENT_KEY_FILE;
  if ((raw === undefined || raw === '') && !values.has('--address'))
    throw new Error('--print-fingerprint needs --address HOST:PORT or --key-file FILE');
  const address = raw ? { address: '' } : parseAddress(values.get('--address'));
  return parseKeyFile(raw, address, io);
}

/** The cache: as given, else under the XDG cache dir, one per address like the key file. */
function parseCache(
  values: Map<string, string>,
  address: { address: string },
  io: ArgsEnvironment,
): AgentOptions['cache'] {
  const megabytes =
    parseInteger('--cache-mb', values.get('--cache-mb') ?? io.env.TM_CACHE_MB, 0, MAX_CACHE_MB) ??
    DEFAULT_CACHE_MB;
  if (megabytes === 0) return null;
  const raw = values.get('--cache-dir') ?? io.env.TM_CACHE_DIR;
  const dir =
    raw !== undefined && raw !== ''
      ? resolve(io.cwd, raw)
      : agentDir(io, 'XDG_CACHE_HOME', ['.cache'], address);
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

/** The agent's own files a sandbox hides from tasks, wherever they lie. */
function secretPaths(
  values: Map<string, string>,
  address: { address: string },
  io: ArgsEnvironment,
): string[] {
  const given = (option: string, env?: string) => {
    const raw = values.get(option) ?? (env === undefined ? undefined : io.env[env]);
    return raw === undefined || raw === '' ? [] : [resolve(io.cwd, raw)];
  };
  const cache = parseCache(values, address, io);
  return [
    parseKeyFile(values.get('--key-file') ?? io.env.TM_AGENT_KEY_FILE, address, io),
    ...given('--token-file'),
    ...given('--client-key', 'TM_CLIENT_KEY'),
    ...(cache ? [cache.dir] : []),
  ];
}

/** Every string that may be the token, so error messages can be scrubbed of it. */
function tokenCandidates(argv: readonly string[], env: ArgsEnvironment['env']): string[] {
  const found: string[] = [];
  argv.forEach((arg, index) => {
    if (arg === '--token' && argv[index + 1] !== undefined) found.push(argv[index + 1] ?? '');
    if (arg.startsWith('--token=')) found.push(arg.slice('--token='.length));
  });
  if (env.TM_JOIN_TOKEN) found.push(env.TM_JOIN_TOKEN);
  return found.map((token) => token.trim()).filter((token) => token.length > 0);
}

/** Replaces every occurrence of each secret with a placeholder. */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length > 0) out = out.split(secret).join('[redacted]');
  }
  return out;
}
