/** A key path into a job file (`['stages', 1, 'command']`), written as people read it: `stages[1].command`. */

export type KeyPath = readonly (string | number)[];

const BARE_KEY = /^[A-Za-z_][A-Za-z0-9_-]*$/;

export function formatKeyPath(path: KeyPath): string {
  if (path.length === 0) return '(the whole file)';
  return path
    .map((key, i) =>
      typeof key === 'number'
        ? `[${key}]`
        : BARE_KEY.test(key)
          ? `${i === 0 ? '' : '.'}${key}`
          : `[${JSON.stringify(key)}]`,
    )
    .join('');
}

/**
 * The lines where a file's keys and values start, by key path; a path not in it (a key that is
 * missing, or inside an inline value) answers with the line of its nearest ancestor that is.
 */
export class KeyLines {
  private readonly lines = new Map<string, number>();

  /** Records the first line seen for `path`: a table's header before the keys written under it. */
  set(path: KeyPath, line: number): void {
    const key = JSON.stringify(path);
    if (!this.lines.has(key)) this.lines.set(key, line);
  }

  lineOf(path: KeyPath): number | undefined {
    for (let n = path.length; n > 0; n--) {
      const line = this.lines.get(JSON.stringify(path.slice(0, n)));
      if (line !== undefined) return line;
    }
    return undefined;
  }
}
