/**
 * A task's environment, built from an allow-list: never the agent's own, which may hold the join
 * token, store keys (AWS_*) or anything else its operator exported.
 */

/** Agent variables a task may see: where programs are, and how to print dates and text. */
const PASSED = new Set(['PATH', 'LANG', 'LANGUAGE', 'TZ']);
const PASSED_PREFIX = 'LC_';
/** When the agent has no PATH (a bare service unit), tasks get Debian's default. */
const DEFAULT_PATH = '/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin';

export interface TaskEnvInput {
  /** The agent's environment, read only for the allow-listed names. */
  agent: Readonly<Record<string, string | undefined>>;
  /** The task's writable dir, given as HOME (the agent's home is not the task's). */
  home: string;
  /** The task's own `env` from its spec. */
  spec: Readonly<Record<string, string>>;
  /** TM_ variables of the task (ids, attempt, worker address); they win over the spec's. */
  task: Readonly<Record<string, string>>;
}

export function taskEnv(input: TaskEnvInput): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(input.agent)) {
    if (value !== undefined && (PASSED.has(name) || name.startsWith(PASSED_PREFIX)))
      env[name] = value;
  }
  env.PATH ??= DEFAULT_PATH;
  env.HOME = input.home;
  return { ...env, ...input.spec, ...input.task };
}
