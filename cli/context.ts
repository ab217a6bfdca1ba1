/** What a command runs with: its parsed arguments, a client, and the terminal it writes to. */
import type { FlagSpecs, ParsedArgs } from './args.ts';
import type { Config } from './config.ts';
import type { TmClient } from './sdk/client.ts';

export interface Output {
  write(chunk: string | Uint8Array, callback?: (error?: Error | null) => void): boolean;
  isTTY?: boolean;
  columns?: number;
}

export interface Ctx {
  args: ParsedArgs;
  config: Config;
  client: TmClient;
  /** `--json`: print the API's JSON, nothing else, on stdout. */
  json: boolean;
  stdout: Output;
  stderr: Output;
  env: Record<string, string | undefined>;
  /** Table width: the terminal's, else `$COLUMNS`, else no limit. */
  width: number;
  readStdin(): Promise<string>;
  /** Writes a line (a newline is added) to stdout. */
  out(text: string): void;
  /** Writes a line to stderr. */
  err(text: string): void;
  /** Prints a value as indented JSON. */
  printJson(value: unknown): void;
}

export interface Command {
  /** As typed: `jobs`, `submit aggregate`. */
  name: string;
  summary: string;
  /** The usage line's arguments after the name, e.g. `ID [--force]`. */
  usage: string;
  flags: FlagSpecs;
  /** More help text, shown under the usage line. */
  details?: string;
  /** Runs without a control plane client (`up`, `demo`). */
  local?: boolean;
  run(ctx: Ctx): Promise<number>;
}

/** The terminal's width for tables: a TTY's columns, else `$COLUMNS`, else unlimited. */
export function terminalWidth(stdout: Output, env: Record<string, string | undefined>): number {
  if (stdout.isTTY && stdout.columns) return stdout.columns;
  const columns = Number(env.COLUMNS);
  return Number.isInteger(columns) && columns > 0 ? columns : Infinity;
}
