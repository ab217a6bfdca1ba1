/**
 * Where each of tm-agent's settings comes from, pure: a flag on the command line, else its
 * environment variable, else the config file (`--config`), else the parser's default.
 */
import type { FlagValues } from './config-file.ts';

/** Options that take a value; the rest are flags. */
const VALUED = new Set([
  '--config',
  '--control-plane',
  '--token-file',
  '--address',
  '--slots',
  '--data-port',
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
  '--log-format',
]);
/** Options that may be given more than once; each value is kept. */
const REPEATED = new Set(['--executor']);
const FLAGS = new Set([
  '--allow-task-network',
  '--no-commands',
  '--print-fingerprint',
  '--version',
  '--help',
  '-h',
]);

/** Splits argv into option → value (`--opt value` or `--opt=value`); flags map to ''. */
export function readArgv(argv: readonly string[]): FlagValues {
  const values = new Map<string, string>();
  const repeated = new Map<string, string[]>();
  for (let index = 0; index < argv.length; index++) {
    const arg = argv[index] ?? '';
    const equals = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const name = equals > 0 ? arg.slice(0, equals) : arg;
    if (name === '--token') {
      // A secret on argv is readable by every user of the machine (ps, /proc/PID/cmdline).
      throw new Error(
        '--token is not accepted: a token on the command line is visible to every user of the machine; give --token-file FILE, TM_JOIN_TOKEN, or token_file in the --config file',
      );
    }
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

/** The settings of one start, each looked up through its sources in order of precedence. */
export class Settings {
  constructor(
    private readonly argv: FlagValues,
    private readonly env: Readonly<Record<string, string | undefined>>,
    private readonly file: FlagValues | null,
  ) {}

  /** A valued option as given on the command line, whatever the other sources say. */
  given(flag: string): string | undefined {
    return this.argv.values.get(flag);
  }

  /** A valued option: the flag, else `envName` (an empty variable counts as unset), else the file. */
  value(flag: string, envName?: string): string | undefined {
    const fromEnv = envName === undefined ? undefined : this.env[envName];
    return (
      this.argv.values.get(flag) ??
      (fromEnv === '' ? undefined : fromEnv) ??
      this.file?.values.get(flag)
    );
  }

  /** A flag that turns something on: given on the command line or set in the file. */
  flag(flag: string): boolean {
    return this.argv.values.has(flag) || (this.file?.values.has(flag) ?? false);
  }

  /**
   * The executors, as one setting: the command line's `--executor` and `--executors-file`, else
   * TM_EXECUTORS, else the file's `executors` and `executors_file`.
   */
  executors(): { flags: string[]; file: string | undefined; env: string | undefined } {
    const fromArgv = {
      flags: this.argv.repeated.get('--executor') ?? [],
      file: this.argv.values.get('--executors-file'),
    };
    if (fromArgv.flags.length > 0 || fromArgv.file !== undefined)
      return { ...fromArgv, env: undefined };
    if (this.env.TM_EXECUTORS) return { flags: [], file: undefined, env: this.env.TM_EXECUTORS };
    return {
      flags: this.file?.repeated.get('--executor') ?? [],
      file: this.file?.values.get('--executors-file'),
      env: undefined,
    };
  }
}
