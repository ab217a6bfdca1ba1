/**
 * Where each key of a TOML job file is: a `[[stages]]` header's line for `stages[N]`, then the
 * `key =` lines under it (dotted keys, `[stages.env]` tables, inline tables and array elements
 * too). A scan of text that smol-toml has already parsed, so it may assume the syntax is valid.
 */
import { KeyLines, type KeyPath } from './key-path.ts';
import { lineOfOffset } from './offsets.ts';

export function tomlKeyLines(text: string): KeyLines {
  const lines = new KeyLines();
  const lineAt = lineOfOffset(text);
  /** The index of the last element of each array of tables, by its resolved path. */
  const arrays = new Map<string, number>();
  let pos = 0;
  let table: KeyPath = [];

  const peek = (s: string) => text.startsWith(s, pos);
  const skipBlank = (newlines: boolean) => {
    for (;;) {
      const c = text[pos];
      if (c === ' ' || c === '\t' || c === '\r' || (newlines && c === '\n')) pos++;
      else if (c === '#') while (pos < text.length && text[pos] !== '\n') pos++;
      else return;
    }
  };
  const skipString = () => {
    const quote = peek('"""') ? '"""' : peek("'''") ? "'''" : text[pos]!;
    pos += quote.length;
    while (pos < text.length && !peek(quote)) pos += text[pos] === '\\' && quote[0] === '"' ? 2 : 1;
    pos += quote.length;
    // A multi-line string may end with up to two more quotes of its own.
    while (quote.length === 3 && text[pos] === quote[0]) pos++;
  };
  /** A dotted key: bare, "basic" or 'literal' parts. */
  const readKey = (): string[] => {
    const parts: string[] = [];
    for (;;) {
      skipBlank(false);
      const start = pos;
      if (text[pos] === '"' || text[pos] === "'") {
        skipString();
        const raw = text.slice(start, pos);
        parts.push(raw[0] === '"' ? basicString(raw) : raw.slice(1, -1));
      } else {
        while (pos < text.length && /[A-Za-z0-9_-]/.test(text[pos]!)) pos++;
        parts.push(text.slice(start, pos));
      }
      skipBlank(false);
      if (text[pos] !== '.') return parts;
      pos++;
    }
  };
  /** The path of a header's key, each array of tables on the way standing for its last element. */
  const resolve = (keys: string[], isArrayHeader: boolean): KeyPath => {
    const path: (string | number)[] = [];
    keys.forEach((key, i) => {
      path.push(key);
      const id = JSON.stringify(path);
      const last = i === keys.length - 1;
      if (last && isArrayHeader) {
        const index = (arrays.get(id) ?? -1) + 1;
        arrays.set(id, index);
        path.push(index);
      } else if (arrays.has(id)) path.push(arrays.get(id)!);
    });
    return path;
  };
  const value = (path: KeyPath): void => {
    skipBlank(false);
    const c = text[pos];
    if (c === '"' || c === "'") return skipString();
    if (c === '[' || c === '{') {
      const close = c === '[' ? ']' : '}';
      pos++;
      for (let index = 0; ; index++) {
        skipBlank(true);
        if (pos >= text.length || text[pos] === close) break;
        const start = pos;
        if (c === '[') {
          lines.set([...path, index], lineAt(pos));
          value([...path, index]);
        } else pair(path);
        skipBlank(true);
        if (text[pos] === ',') pos++;
        if (pos === start) break;
      }
      pos++;
      return;
    }
    while (pos < text.length && !/[,\]}\n#]/.test(text[pos]!)) pos++;
  };
  /** `key = value`, recording the key's line (and that of each dotted prefix). */
  const pair = (under: KeyPath): void => {
    const line = lineAt(pos);
    const keys = readKey();
    keys.forEach((_, i) => lines.set([...under, ...keys.slice(0, i + 1)], line));
    if (text[pos] === '=') pos++;
    value([...under, ...keys]);
  };

  while (pos < text.length) {
    skipBlank(true);
    if (pos >= text.length) break;
    const start = pos;
    const line = lineAt(pos);
    if (text[pos] === '[') {
      const isArrayHeader = peek('[[');
      pos += isArrayHeader ? 2 : 1;
      const keys = readKey();
      table = resolve(keys, isArrayHeader);
      if (isArrayHeader) lines.set(table.slice(0, -1), line);
      lines.set(table, line);
      while (pos < text.length && text[pos] !== '\n') pos++;
    } else pair(table);
    if (pos === start) pos++;
  }
  return lines;
}

/** A "basic" key's text; TOML's escapes are JSON's but for a few (`\e`, `\U…`) kept as written. */
function basicString(raw: string): string {
  try {
    return JSON.parse(raw) as string;
  } catch {
    return raw.slice(1, -1);
  }
}
