/**
 * Pure parsing of the executors an agent announces: `--executor NAME[=PROGRAM]` (repeatable),
 * `--executors-file FILE` (a JSON object of names to programs, or null for "NAME on the PATH"),
 * or `TM_EXECUTORS` (a comma list like the flag's values) when neither option is given.
 */
import { isAbsolute, resolve } from 'node:path';
import { ExecutorName, MAX_EXECUTORS } from '../protocol/index.ts';

/** Executor name → the program a command whose argv[0] is that name runs (null: the name, found on the PATH). */
export type ExecutorMap = Record<string, string | null>;

export interface ExecutorSources {
  flags: readonly string[];
  file: string | undefined;
  env: string | undefined;
}

export interface ExecutorIo {
  cwd: string;
  readFile(path: string): string;
  isExecutable(path: string): boolean;
}

export function parseExecutors(sources: ExecutorSources, io: ExecutorIo): ExecutorMap {
  const entries: [string, string | null, string][] = [];
  for (const flag of sources.flags) entries.push([...splitEntry(flag), '--executor']);
  if (sources.file !== undefined) entries.push(...readFileEntries(sources.file, io));
  if (entries.length === 0 && sources.env) {
    for (const item of sources.env
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean))
      entries.push([...splitEntry(item), 'TM_EXECUTORS']);
  }
  if (entries.length > MAX_EXECUTORS)
    throw new Error(`at most ${MAX_EXECUTORS} executors, got ${entries.length}`);
  const executors: ExecutorMap = {};
  for (const [name, program, from] of entries) {
    if (!ExecutorName.safeParse(name).success)
      throw new Error(
        `${from}: ${JSON.stringify(name)} is not an executor name (a-z, 0-9, ., +, - and _)`,
      );
    if (Object.hasOwn(executors, name)) throw new Error(`${from}: executor ${name} given twice`);
    executors[name] = program === null ? null : checkProgram(name, program, from, io);
  }
  return executors;
}

function splitEntry(entry: string): [string, string | null] {
  const equals = entry.indexOf('=');
  return equals < 0 ? [entry, null] : [entry.slice(0, equals), entry.slice(equals + 1)];
}

function readFileEntries(file: string, io: ExecutorIo): [string, string | null, string][] {
  const path = isAbsolute(file) ? file : resolve(io.cwd, file);
  const from = `--executors-file ${path}`;
  let json: unknown;
  try {
    json = JSON.parse(io.readFile(path));
  } catch (error) {
    const reason = error instanceof SyntaxError ? 'is not JSON' : 'cannot be read';
    throw new Error(`${from} ${reason}`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw new Error(`${from}: expected an object of executor names to programs (or null)`);
  return Object.entries(json).map(([name, program]) => {
    if (program !== null && typeof program !== 'string')
      throw new Error(`${from}: the program of ${name} must be a path or null`);
    return [name, program, from];
  });
}

function checkProgram(name: string, program: string, from: string, io: ExecutorIo): string {
  if (program === '') throw new Error(`${from}: executor ${name} has an empty program path`);
  const path = isAbsolute(program) ? program : resolve(io.cwd, program);
  if (!io.isExecutable(path))
    throw new Error(`${from}: ${path} (executor ${name}) is not an executable file`);
  return path;
}
