/**
 * All SQL of the Scheduler lives in durable-objects/db/: no other file under durable-objects/
 * runs a statement through the `Sql` wrapper (or the storage's own `exec`) or holds SQL text in a
 * template string.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../../durable-objects');

const CALL = /\bsql\s*\.\s*(all|first|run|rows|row|exec)\s*[<(]/;
const SQL_TEXT =
  /\b(SELECT\b[\s\S]*\bFROM|INSERT\s+(OR\s+\w+\s+)?INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|(CREATE|ALTER|DROP)\s+(TABLE|INDEX))\b/;

/** The file without its comment lines, which may well name a SELECT or an UPDATE. */
const withoutComments = (source: string) =>
  source
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .split('\n')
    .filter((line) => !line.trim().startsWith('//'))
    .join('\n');

const templates = (source: string) => source.match(/`(?:\\.|[^`\\])*`/g) ?? [];

/** What in `source` breaks the rule, one line each. */
function sqlOutsideDb(source: string): string[] {
  const code = withoutComments(source);
  const calls = code.split('\n').filter((line) => CALL.test(line));
  const texts = templates(code).filter((text) => SQL_TEXT.test(text));
  return [...calls, ...texts].map((found) => found.trim().split('\n')[0]!);
}

describe('data layer', () => {
  it('tells SQL from prose', () => {
    expect(sqlOutsideDb('const n = sql.row(Count, `SELECT count(*) AS n FROM tasks`);')).toEqual([
      'const n = sql.row(Count, `SELECT count(*) AS n FROM tasks`);',
      '`SELECT count(*) AS n FROM tasks`',
    ]);
    expect(sqlOutsideDb('const q = `UPDATE tasks SET state = ?\n WHERE id = ?`;')).toEqual([
      '`UPDATE tasks SET state = ?',
    ]);
    expect(sqlOutsideDb('core.sql.run(query);')).toEqual(['core.sql.run(query);']);
    expect(
      sqlOutsideDb(
        [
          '// a SELECT then an UPDATE by id, as the old code did',
          '/** The UPDATE of db/attempts.ts sets the state from the queue. */',
          'const message = `job ${id} was selected from the queue and updated`;',
          'sql.transaction(() => settle(sql));',
        ].join('\n'),
      ),
    ).toEqual([]);
  });

  it('holds every statement of the Scheduler', () => {
    const files = readdirSync(ROOT, { recursive: true, encoding: 'utf8' }).filter(
      (name) => name.endsWith('.ts') && !name.startsWith('db/'),
    );
    expect(files.length).toBeGreaterThan(40);
    const found = files.flatMap((name) =>
      sqlOutsideDb(readFileSync(join(ROOT, name), 'utf8')).map((line) => `${name}: ${line}`),
    );
    expect(found).toEqual([]);
  });
});
