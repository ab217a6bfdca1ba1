/**
 * The control plane's log lines, the Worker's and the Scheduler's: text or JSON on the console
 * (TM_LOG_FORMAT, protocol/log-lines.ts), with the cluster's tokens and any secret the caller
 * names scrubbed from every line.
 */
import {
  formatLogLine,
  isLogFormat,
  type LogFields,
  type LogFormat,
  type LogLevel,
} from './log-lines.ts';
import { redact } from './redact.ts';

/** What the log reads from the Worker's environment. */
export interface LogEnv {
  /** `text` (default) or `json`; anything else is written as text, and readConfig warns. */
  TM_LOG_FORMAT?: string;
  TM_ADMIN_TOKEN?: string;
  TM_JOIN_TOKEN?: string;
}

export interface Log {
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

/**
 * A log for one component (`api`, `scheduler`, `agent-session`, `retention`, `cleanup`,
 * `config`); `secrets` are scrubbed besides the tokens (a store's keys, say).
 */
export type Logs = (component: string, secrets?: readonly (string | null)[]) => Log;

/** The control plane writes only what an operator should look at. */
type Level = Extract<LogLevel, 'warn' | 'error'>;

const CONSOLE: Record<Level, (line: string) => void> = {
  warn: (line) => console.warn(line),
  error: (line) => console.error(line),
};

export function readLogFormat(value: string | undefined): LogFormat {
  return isLogFormat(value) ? value : 'text';
}

export function controlPlaneLogs(env: LogEnv): Logs {
  const format = readLogFormat(env.TM_LOG_FORMAT);
  const tokens = [env.TM_ADMIN_TOKEN, env.TM_JOIN_TOKEN];
  return (component, secrets = []) => {
    const hidden = [...tokens, ...secrets].filter((secret): secret is string => !!secret);
    const emit = (level: Level) => (message: string, fields?: LogFields) => {
      const line = formatLogLine(
        { time: new Date().toISOString(), level, component, message, fields },
        format,
      );
      CONSOLE[level](redact(line, hidden));
    };
    return { warn: emit('warn'), error: emit('error') };
  };
}
