/** Structured JSON-line logging to stderr, with secrets scrubbed from every line. */

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger that adds `fields` (taskId, jobId, attempt, ...) to every line. */
  child(fields: LogFields): Logger;
}

export interface LoggerOptions {
  /** Where lines go; default: process.stderr. */
  write?: (line: string) => void;
  /** Lowest level written; default 'info'. */
  level?: LogLevel;
  /** Strings that must never appear in a line (the join token); replaced by `[redacted]`. */
  secrets?: readonly string[];
}

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export function isLogLevel(value: string | undefined): value is LogLevel {
  return value !== undefined && value in RANK;
}

export function createLogger(options: LoggerOptions = {}, base: LogFields = {}): Logger {
  const write = options.write ?? ((line: string) => process.stderr.write(line));
  const minimum = RANK[options.level ?? 'info'];
  // A secret may show up raw or JSON-escaped inside a line; scrub both forms.
  const secrets = (options.secrets ?? [])
    .filter((secret) => secret.length > 0)
    .flatMap((secret) => [secret, JSON.stringify(secret).slice(1, -1)]);

  const emit = (level: LogLevel, msg: string, fields: LogFields = {}) => {
    if (RANK[level] < minimum) return;
    let line = JSON.stringify(
      { ts: new Date().toISOString(), level, msg, ...base, ...fields },
      errorsAsText,
    );
    for (const secret of secrets) line = line.split(secret).join('[redacted]');
    write(line + '\n');
  };

  return {
    debug: (msg, fields) => emit('debug', msg, fields),
    info: (msg, fields) => emit('info', msg, fields),
    warn: (msg, fields) => emit('warn', msg, fields),
    error: (msg, fields) => emit('error', msg, fields),
    child: (fields) => createLogger(options, { ...base, ...fields }),
  };
}

/** JSON.stringify drops an Error's fields; log its message (and code) instead. */
function errorsAsText(_key: string, value: unknown): unknown {
  if (!(value instanceof Error)) return value;
  const code = (value as NodeJS.ErrnoException).code;
  return code === undefined ? value.message : `${value.message} (${code})`;
}
