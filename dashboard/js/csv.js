// @ts-check
/** CSV of result rows (RFC 4180): every field quoted when it holds a comma, quote or line break. */

/** @param {unknown} value */
function field(value) {
  const text =
    value === null || value === undefined
      ? ''
      : typeof value === 'object'
        ? JSON.stringify(value)
        : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** @param {string[]} columns @param {Record<string, unknown>[]} rows */
export const toCsv = (columns, rows) =>
  [columns, ...rows.map((row) => columns.map((name) => row[name]))]
    .map((cells) => cells.map(field).join(','))
    .join('\r\n') + '\r\n';

/** Offers `blob` as a download named `name`. @param {Blob} blob @param {string} name */
export function download(blob, name) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
