/**
 * A JSON job file's key lines: a strict scan that records where each key and array element
 * starts, and stops at the first syntax error with its line and column (JSON.parse's own
 * messages carry no position on some Node versions).
 */
import { KeyLines, type KeyPath } from './key-path.ts';
import { lineOfOffset } from './offsets.ts';
import { SourceSyntaxError } from './source.ts';

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const LITERAL = /true|false|null/y;

export function jsonKeyLines(text: string): KeyLines {
  const lines = new KeyLines();
  const lineAt = lineOfOffset(text);
  let pos = 0;
  const fail = (what: string): never => {
    const line = lineAt(pos);
    const column = pos - text.lastIndexOf('\n', pos - 1);
    const found = pos < text.length ? `'${text[pos]}'` : 'the end of the file';
    throw new SourceSyntaxError(line, column, `expected ${what}, found ${found}`);
  };
  const skipSpace = () => {
    while (pos < text.length && ' \t\r\n'.includes(text[pos]!)) pos++;
  };
  const expect = (c: string, what: string) => {
    skipSpace();
    if (text[pos] !== c) fail(what);
    pos++;
  };
  const token = (pattern: RegExp): boolean => {
    pattern.lastIndex = pos;
    if (!pattern.test(text)) return false;
    pos = pattern.lastIndex;
    return true;
  };
  const string = (): string => {
    const start = pos;
    for (pos++; pos < text.length && text[pos] !== '"'; pos++) {
      if (text[pos] === '\\') pos++;
      else if (text.charCodeAt(pos) < 0x20) fail(`the closing '"' of a string`);
    }
    if (pos >= text.length) fail(`the closing '"' of a string`);
    pos++;
    try {
      return JSON.parse(text.slice(start, pos)) as string;
    } catch {
      pos = start;
      return fail('a string with valid escapes');
    }
  };
  const value = (path: KeyPath): void => {
    skipSpace();
    const open = text[pos];
    if (open === '"') return void string();
    if (open !== '{' && open !== '[') {
      if (!token(NUMBER) && !token(LITERAL)) fail('a value');
      return;
    }
    const close = open === '{' ? '}' : ']';
    pos++;
    skipSpace();
    if (text[pos] === close) return void pos++;
    for (let index = 0; ; index++) {
      skipSpace();
      const line = lineAt(pos);
      if (open === '{') {
        if (text[pos] !== '"') fail('a key in double quotes');
        const key = string();
        lines.set([...path, key], line);
        expect(':', `':' after a key`);
        value([...path, key]);
      } else {
        lines.set([...path, index], line);
        value([...path, index]);
      }
      skipSpace();
      if (text[pos] === close) return void pos++;
      expect(',', `',' or '${close}'`);
    }
  };
  value([]);
  skipSpace();
  if (pos < text.length) fail('nothing after the value');
  return lines;
}
