/**
 * The agent's log lines on stderr, as text or JSON (`--log-format`, protocol/log-lines.ts), with
 * secrets scrubbed from every line.
 */
import { formatLogLine, redact } from '../protocol/index.ts';
import type { LogFields, LogFormat, LogLevel } from '../protocol/index.ts';

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** A logger that adds `fields` (task, job, attempt, ...) to every line. */
  child(fields: LogFields): Logger;
}

export interface LoggerOptions {
  /** Where lines go; default: process.stderr. */
  write?: (line: string) => void;
  /** Lowest level written; default 'info'. */
  level?: LogLevel;
  /** Default 'text'. */
  format?: LogFormat;
  /** The line's `component`; default 'agent'. */
  component?: string;
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
  const format = options.format ?? 'text';
  const component = options.component ?? 'agent';
  const secrets = options.secrets ?? [];

  const emit = (level: LogLevel, message: string, fields: LogFields = {}) => {
    if (RANK[level] < minimum) return;
    const time = new Date().toISOString();
    const line = formatLogLine(
      { time, level, component, message, fields: { ...base, ...fields } },
      format,
    );
    write(redact(line, secrets) + '\n');
  };

  return {
    debug: (message, fields) => emit('debug', message, fields),
    info: (message, fields) => emit('info', message, fields),
    warn: (message, fields) => emit('warn', message, fields),
    error: (message, fields) => emit('error', message, fields),
    child: (fields) => createLogger(options, { ...base, ...fields }),
  };
}
