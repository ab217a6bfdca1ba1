/**
 * A keyed record's key, read from its bytes without JSON.parse, pure: the fast path of route.ts
 * (JSON.parse took ~1 µs of the router's ~1.8 µs per small record; this scan ~0.3 µs). It reads
 * only flat objects — members whose values are strings, numbers, true, false or null — and the
 * key's value only when its text is what JSON.stringify would give back (a string without
 * escapes or non-ASCII, an integer of at most 15 digits, true, false). Anything else, valid or
 * not, is UNSURE: the caller parses the line, so errors and odd records keep their one meaning.
 */

/** The line is not one this scan can vouch for: parse it. */
export const UNSURE = -2;
/** A JSON object without the key (or with it null): it goes to every instance. */
export const MISSING = -1;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const MAX_CANONICAL_DIGITS = 15;

/** Scans one value or member; returns the index after it, or UNSURE. */
type Scan = (line: Buffer, at: number, end: number) => number;

/**
 * FNV-1a (as route.ts's fnv1a) of the JSON text of `key`'s value in the JSON object that is
 * `line` (no newline), MISSING, or UNSURE. `key` must be ASCII (else UNSURE). Reads past the
 * line's end give undefined, which nothing matches.
 */
export function scanKeyHash(line: Buffer, key: string): number {
  if (!isAscii(key)) return UNSURE;
  const end = line.length;
  let at = skipSpace(line, 0, end);
  if (line[at] !== 0x7b) return UNSURE;
  at = skipSpace(line, at + 1, end);
  let found = MISSING;
  if (line[at] === 0x7d) return skipSpace(line, at + 1, end) === end ? MISSING : UNSURE;
  for (;;) {
    // A member: "name" : value
    if (line[at] !== QUOTE) return UNSURE;
    const nameEnd = scanName(line, at, end);
    if (nameEnd < 0) return UNSURE;
    const isKey = sameText(line, at + 1, nameEnd - 1, key);
    at = skipSpace(line, nameEnd, end);
    if (line[at] !== 0x3a) return UNSURE;
    at = skipSpace(line, at + 1, end);
    const valueEnd = scanValue(line, at, end);
    if (valueEnd < 0) return UNSURE;
    // A repeated key: the last one counts, as with JSON.parse.
    if (isKey) found = valueHash(line, at, valueEnd);
    at = skipSpace(line, valueEnd, end);
    if (line[at] === 0x2c) {
      at = skipSpace(line, at + 1, end);
      continue;
    }
    if (line[at] !== 0x7d) return UNSURE;
    return skipSpace(line, at + 1, end) === end ? found : UNSURE;
  }
}

/** The hash of a scanned value's text if it is JSON.stringify's own; MISSING for null. */
function valueHash(line: Buffer, at: number, end: number): number {
  const first = line[at]!;
  if (first === 0x6e) return MISSING;
  if (first === QUOTE) {
    for (let i = at + 1; i < end - 1; i++)
      if (line[i]! >= 0x80 || line[i] === BACKSLASH) return UNSURE;
  } else if (first === 0x2d || isDigit(first)) {
    const digits = end - at - (first === 0x2d ? 1 : 0);
    if (digits > MAX_CANONICAL_DIGITS) return UNSURE;
    for (let i = at + 1; i < end; i++) if (!isDigit(line[i]!)) return UNSURE;
    if (first === 0x2d && line[at + 1] === 0x30) return UNSURE; // -0 is "0"
  }
  let hash = 0x811c9dc5;
  for (let i = at; i < end; i++) hash = Math.imul(hash ^ line[i]!, 0x01000193) >>> 0;
  return hash;
}

const scanValue: Scan = (line, at, end) => {
  const c = line[at];
  if (c === QUOTE) return scanString(line, at, end);
  if (c === 0x2d || (c !== undefined && isDigit(c))) return scanNumber(line, at, end);
  if (c === 0x74) return word(line, at, end, 'true');
  if (c === 0x66) return word(line, at, end, 'false');
  if (c === 0x6e) return word(line, at, end, 'null');
  return UNSURE; // an object, an array, or not JSON
};

/** A string from its opening quote: the index after its closing one. */
const scanString: Scan = (line, at, end) => {
  for (let i = at + 1; i < end; i++) {
    const c = line[i]!;
    if (c === QUOTE) return i + 1;
    if (c < 0x20) return UNSURE;
    if (c === BACKSLASH) {
      const e = line[++i];
      if (e === 0x75) {
        for (let h = 0; h < 4; h++) if (!isHex(line[++i])) return UNSURE;
      } else if (e === undefined || !ESCAPES.has(e)) return UNSURE;
    }
  }
  return UNSURE;
};

/** -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
const scanNumber: Scan = (line, at, end) => {
  let i = at;
  if (line[i] === 0x2d) i++;
  if (line[i] === 0x30) i++;
  else if (isDigit(line[i]) && line[i] !== 0x30) i = digitsFrom(line, i, end);
  else return UNSURE;
  if (line[i] === 0x2e) {
    if (!isDigit(line[i + 1])) return UNSURE;
    i = digitsFrom(line, i + 1, end);
  }
  if (line[i] === 0x65 || line[i] === 0x45) {
    i++;
    if (line[i] === 0x2b || line[i] === 0x2d) i++;
    if (!isDigit(line[i])) return UNSURE;
    i = digitsFrom(line, i, end);
  }
  return i <= end ? i : UNSURE;
};

function word(line: Buffer, at: number, end: number, text: string): number {
  if (at + text.length > end) return UNSURE;
  return sameText(line, at, at + text.length, text) ? at + text.length : UNSURE;
}

function digitsFrom(line: Buffer, at: number, end: number): number {
  let i = at;
  while (i < end && isDigit(line[i])) i++;
  return i;
}

function skipSpace(line: Buffer, at: number, end: number): number {
  let i = at;
  // JSON's whitespace: space, tab, CR (LF cannot occur inside a line).
  while (i < end && (line[i] === 0x20 || line[i] === 0x09 || line[i] === 0x0d)) i++;
  return i;
}

function sameText(line: Buffer, from: number, to: number, text: string): boolean {
  if (to - from !== text.length) return false;
  for (let i = 0; i < text.length; i++) if (line[from + i] !== text.charCodeAt(i)) return false;
  return true;
}

/** A member's name from its opening quote, with no escapes (one with any is UNSURE). */
const scanName: Scan = (line, at, end) => {
  for (let i = at + 1; i < end; i++) {
    const c = line[i]!;
    if (c === QUOTE) return i + 1;
    if (c < 0x20 || c === BACKSLASH) return UNSURE;
  }
  return UNSURE;
};

function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) >= 0x80) return false;
  return true;
}

const isDigit = (c: number | undefined) => c !== undefined && c >= 0x30 && c <= 0x39;
const isHex = (c: number | undefined) =>
  c !== undefined && (isDigit(c) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46));
/** The escapes after a backslash, besides \u: " \ / b f n r t */
const ESCAPES = new Set([0x22, 0x5c, 0x2f, 0x62, 0x66, 0x6e, 0x72, 0x74]);
