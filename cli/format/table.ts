/** Plain aligned text tables for the terminal, fitted to its width. */

const GAP = 2;
const MIN_WIDTH = 4;

function cell(value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : value.toFixed(2);
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value).replace(/\r?\n/g, '↵');
}

/** Cuts `text` to `width` characters, ending with … when it had to cut. */
export function truncate(text: string, width: number): string {
  const chars = [...text];
  if (chars.length <= width) return text;
  if (width <= 0) return '';
  return chars.slice(0, width - 1).join('') + '…';
}

/**
 * Column widths that fit `maxWidth` (gaps included): the widest columns give way first, down to
 * a few characters each; a table that still does not fit keeps those minimums.
 */
export function fitWidths(natural: readonly number[], maxWidth: number): number[] {
  const widths = [...natural];
  let total = widths.reduce((a, b) => a + b, 0) + GAP * Math.max(0, widths.length - 1);
  while (total > maxWidth) {
    let widest = -1;
    for (let i = 0; i < widths.length; i++)
      if (widths[i]! > MIN_WIDTH && (widest < 0 || widths[i]! >= widths[widest]!)) widest = i;
    if (widest < 0) break;
    const second = Math.max(
      MIN_WIDTH,
      ...widths.filter((_, i) => i !== widest && widths[i]! < widths[widest]!),
    );
    const cut = Math.max(1, Math.min(total - maxWidth, widths[widest]! - second));
    widths[widest]! -= cut;
    total -= cut;
  }
  return widths;
}

export interface TableOptions {
  /** The terminal's width; wider tables have their widest cells cut with … (default: no limit). */
  maxWidth?: number;
}

/** Renders rows under their column names; numbers align right. */
export function renderTable(
  columns: readonly string[],
  rows: readonly Record<string, unknown>[],
  options: TableOptions = {},
): string {
  const cells = rows.map((row) => columns.map((column) => cell(row[column])));
  const natural = columns.map((column, i) =>
    Math.max([...column].length, ...cells.map((line) => [...(line[i] ?? '')].length)),
  );
  const widths = fitWidths(natural, options.maxWidth ?? Infinity);
  const numeric = columns.map(
    (column) =>
      rows.length > 0 &&
      rows.every((row) => typeof row[column] === 'number' || row[column] === null),
  );
  const pad = (value: string, i: number) => {
    const width = widths[i] ?? 0;
    const text = truncate(value, width);
    const fill = ' '.repeat(Math.max(0, width - [...text].length));
    return numeric[i] ? fill + text : text + fill;
  };
  const line = (values: string[]) => values.map(pad).join(' '.repeat(GAP)).trimEnd();
  return [line([...columns]), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join(
    '\n',
  );
}

/** `key  value` lines for one record, keys aligned. */
export function renderFields(fields: readonly [string, unknown][], maxWidth = Infinity): string {
  const width = Math.max(...fields.map(([key]) => key.length));
  return fields
    .map(([key, value]) => truncate(`${key.padEnd(width)}  ${cell(value)}`, maxWidth))
    .join('\n');
}
