/** Command-line parsing for `tm`: small and pure, so it is unit-tested without a process. */
import { UsageError } from './exit.ts';

export interface FlagSpec {
  /** A string flag takes a value (`--x v` or `--x=v`); a boolean flag takes none. */
  type: 'string' | 'boolean';
  /** May be given more than once; the values are collected in order. */
  multiple?: boolean;
  short?: string;
  /** For the help text: the value's name and what the flag does. */
  value?: string;
  help?: string;
}
export type FlagSpecs = Record<string, FlagSpec>;
export type FlagValue = string | boolean | string[];

export interface ParsedArgs {
  positionals: string[];
  flags: Record<string, FlagValue>;
  /** Everything after a bare `--`, verbatim; null when there was none. */
  rest: string[] | null;
}

/** Flags every command takes. */
/** `--token` is refused: other users of the machine see a command line in `ps`. */
const TOKEN_ON_ARGV =
  '--token would put the token on the command line, where ps shows it: use --token-file FILE, TM_TOKEN, or "token" in the config file';

export const GLOBAL_FLAGS: FlagSpecs = {
  url: { type: 'string', value: 'URL', help: 'control plane URL (env TM_URL)' },
  'master-addr': {
    type: 'string',
    value: 'HOST:PORT',
    help: 'another name for --url: http://HOST:PORT (a URL with its scheme is kept as it is)',
  },
  'token-file': {
    type: 'string',
    value: 'FILE',
    help: 'read the API token from FILE (env TM_TOKEN holds the token itself)',
  },
  'ca-file': {
    type: 'string',
    value: 'FILE',
    help: 'PEM CA to trust for https, e.g. .tm/tls/ca.pem (env TM_CA_FILE)',
  },
  json: { type: 'boolean', help: "print the API's JSON instead of text" },
  help: { type: 'boolean', short: 'h', help: 'show this help' },
};

/** Parses `argv` against `specs`: flags anywhere, positionals in order, `--` ends the flags. */
export function parseArgs(argv: readonly string[], specs: FlagSpecs): ParsedArgs {
  const parsed: ParsedArgs = { positionals: [], flags: {}, rest: null };
  const byShort = new Map(
    Object.entries(specs).flatMap(([name, spec]) => (spec.short ? [[spec.short, name]] : [])),
  );
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      parsed.rest = argv.slice(i + 1);
      break;
    }
    let name: string;
    let inline: string | undefined;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
      inline = eq >= 0 ? arg.slice(eq + 1) : undefined;
    } else if (/^-[A-Za-z]$/.test(arg)) {
      const long = byShort.get(arg.slice(1));
      if (!long) throw new UsageError(`unknown option ${arg}`);
      name = long;
    } else {
      parsed.positionals.push(arg);
      continue;
    }
    const spec = specs[name];
    if (name === 'token' && !spec) throw new UsageError(TOKEN_ON_ARGV);
    if (!spec) throw new UsageError(`unknown option --${name}`);
    let value: string | boolean;
    if (spec.type === 'boolean') {
      if (inline !== undefined && !['true', 'false'].includes(inline))
        throw new UsageError(`--${name} takes no value`);
      value = inline !== 'false';
    } else if (inline !== undefined) {
      value = inline;
    } else {
      const next = argv[i + 1];
      if (next === undefined || next === '--') throw new UsageError(`--${name} needs a value`);
      value = next;
      i++;
    }
    if (spec.multiple) {
      const list = (parsed.flags[name] as string[] | undefined) ?? [];
      list.push(String(value));
      parsed.flags[name] = list;
    } else {
      if (name in parsed.flags && spec.type === 'string')
        throw new UsageError(`--${name} given more than once`);
      parsed.flags[name] = value;
    }
  }
  return parsed;
}

export const stringFlag = (args: ParsedArgs, name: string): string | undefined => {
  const value = args.flags[name];
  return typeof value === 'string' ? value : undefined;
};

export const boolFlag = (args: ParsedArgs, name: string): boolean => args.flags[name] === true;

export const listFlag = (args: ParsedArgs, name: string): string[] => {
  const value = args.flags[name];
  return Array.isArray(value) ? value : typeof value === 'string' ? [value] : [];
};

/** A numeric flag, checked to be in range (and an integer unless `float`). */
export function numberFlag(
  args: ParsedArgs,
  name: string,
  { min = -Infinity, max = Infinity, float = false } = {},
): number | undefined {
  const text = stringFlag(args, name);
  if (text === undefined) return undefined;
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || (!float && !Number.isInteger(value)))
    throw new UsageError(`--${name} expects ${float ? 'a number' : 'an integer'}, got "${text}"`);
  if (value < min || value > max)
    throw new UsageError(`--${name} must be between ${min} and ${max}, got ${value}`);
  return value;
}

/** The positionals a command expects, by name; too few or too many is a usage error. */
export function takePositionals(
  args: ParsedArgs,
  names: readonly string[],
  optional = 0,
): string[] {
  const got = args.positionals;
  if (got.length < names.length - optional) throw new UsageError(`missing ${names[got.length]}`);
  if (got.length > names.length) throw new UsageError(`unexpected argument "${got[names.length]}"`);
  return got;
}

/** `KEY=VALUE` pairs (for --env, --label and a pipeline task's data) as a record; `what` names them in errors. */
export function keyValues(pairs: readonly string[], what: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`${what} expects KEY=VALUE, got "${pair}"`);
    out[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return out;
}

/** The global flags that take a value, as written before the command: `--url URL`. */
const GLOBAL_VALUE_FLAGS = new Set(
  Object.entries(GLOBAL_FLAGS).flatMap(([name, spec]) =>
    spec.type === 'string' ? [`--${name}`] : [],
  ),
);

/** Splits `tm [global flags] COMMAND rest…` into the command and the remaining arguments. */
export function splitCommand(argv: readonly string[]): { command?: string; rest: string[] } {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') break;
    if (GLOBAL_VALUE_FLAGS.has(arg)) {
      i++;
      continue;
    }
    if (arg.startsWith('-')) continue;
    return { command: arg, rest: [...argv.slice(0, i), ...argv.slice(i + 1)] };
  }
  return { rest: [...argv] };
}

/** The help lines of a set of flags: `  --name VALUE   what it does`. */
export function flagHelp(specs: FlagSpecs): string {
  const rows = Object.entries(specs).map(([name, spec]) => {
    const short = spec.short ? `-${spec.short}, ` : '';
    const left = `${short}--${name}${spec.type === 'string' ? ` ${spec.value ?? 'VALUE'}` : ''}`;
    return [left, (spec.help ?? '') + (spec.multiple ? ' (repeatable)' : '')] as const;
  });
  const width = Math.max(...rows.map(([left]) => left.length));
  return rows.map(([left, help]) => `  ${left.padEnd(width)}  ${help}`.trimEnd()).join('\n');
}
