/**
 * One operator log line of the control plane or an agent, pure: a JSON object or a readable text
 * line (TM_LOG_FORMAT, `--log-format`), with the same fields either way.
 */

export const LOG_FORMATS = ['text', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** What a line may say besides its message; a field left undefined is left out. */
export type LogFields = Record<string, unknown>;

export interface LogLine {
  /** ISO 8601, UTC. */
  time: string;
  level: LogLevel;
  /** What wrote it: `agent`, `scheduler`, `agent-session`, `retention`, `api`, … */
  component: string;
  message: string;
  /** The job, task and worker the line is about, where there is one; then any other fields. */
  fields?: LogFields;
}

/** The fields every line may carry, in the order they are written. */
const LEADING = ['job', 'task', 'worker'] as const;
/** A line's own keys, which no field may take. */
const OWN = new Set(['time', 'level', 'component', 'message', ...LEADING]);

export function isLogFormat(value: string | undefined): value is LogFormat {
  return value === 'text' || value === 'json';
}

/** The format a setting names; unset or empty is text. Throws on anything else. */
export function parseLogFormat(value: string | undefined, name = 'TM_LOG_FORMAT'): LogFormat {
  if (value === undefined || value === '') return 'text';
  if (isLogFormat(value)) return value;
  throw new Error(`${name} must be text or json, not ${JSON.stringify(value)}`);
}

/** The entry as one line, without its newline. */
export function formatLogLine(entry: LogLine, format: LogFormat): string {
  const { time, level, component, message } = entry;
  const { leading, rest } = splitFields(entry.fields ?? {});
  if (format === 'json')
    return JSON.stringify({ time, level, component, ...leading, message, ...rest }, errorsAsText);
  const head = `${time} ${level.toUpperCase()} ${component}: ${oneLine(message)}`;
  const tail = Object.entries({ ...leading, ...rest }).map(
    ([key, value]) => ` ${key}=${textValue(value)}`,
  );
  return head + tail.join('');
}

/** job, task and worker apart from the rest; undefined ones, and the line's own keys, dropped. */
function splitFields(fields: LogFields): { leading: LogFields; rest: LogFields } {
  const leading: LogFields = {};
  const rest: LogFields = {};
  for (const key of LEADING) if (fields[key] !== undefined) leading[key] = fields[key];
  for (const [key, value] of Object.entries(fields))
    if (value !== undefined && !OWN.has(key)) rest[key] = value;
  return { leading, rest };
}

/** A bare word stays bare; anything with spaces, quotes, `=` or structure goes as JSON. */
function textValue(value: unknown): string {
  if (typeof value === 'string' && /^[^\s"=]+$/.test(value)) return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value, errorsAsText) ?? String(value);
}

/** A message with line breaks would read as several lines: they are written escaped. */
function oneLine(message: string): string {
  return message.replace(/\r?\n/g, '\\n');
}

/** JSON.stringify drops an Error's fields; write its message (and code) instead. */
function errorsAsText(_key: string, value: unknown): unknown {
  if (!(value instanceof Error)) return value;
  const code: unknown = (value as { code?: unknown }).code;
  return code === undefined ? value.message : `${value.message} (${String(code)})`;
}
