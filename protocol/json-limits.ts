/**
 * Bounds on JSON that crosses a boundary: nesting depth, checked on the raw text before anything
 * recursive (zod, JSON.stringify) walks it, and the UTF-8 size of a value as it will be re-encoded.
 */

/**
 * Deepest nesting of arrays and objects a request body may have. No schema of the API nests
 * deeper than a handful of levels (an echo payload is free-form, a probe); zod's recursive
 * `z.json()` overflowed Node's stack at ~1,800 levels of objects inside a frame, and workerd's
 * stack is smaller, so 64 keeps every parser two orders of magnitude away from it.
 */
export const MAX_JSON_DEPTH = 64;

/**
 * Deepest nesting a frame may have: a body's free-form value travels inside a frame's envelope
 * (`{tasks: [{spec: {payload: …}}]}`, four levels over the payload's own), so frames get eight
 * more levels than bodies, and a body that was accepted always fits in its frame.
 */
export const MAX_FRAME_JSON_DEPTH = MAX_JSON_DEPTH + 8;

/**
 * The nesting depth of JSON text, scanning it once without recursion; stops and returns
 * `limit + 1` as soon as it passes `limit`. Text that is not JSON gets some number: parse it
 * afterwards to find out.
 */
export function jsonDepth(text: string, limit = Infinity): number {
  let depth = 0;
  let deepest = 0;
  const length = text.length;
  for (let i = 0; i < length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      // Skip the string: a quote ends it unless an odd run of backslashes precedes it.
      for (i++; i < length; i++) {
        const s = text.charCodeAt(i);
        if (s === 0x5c /* \ */) i++;
        else if (s === 0x22) break;
      }
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      depth++;
      if (depth > deepest) {
        deepest = depth;
        if (deepest > limit) return limit + 1;
      }
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      depth--;
    }
  }
  return deepest;
}

/** True when `text` nests arrays and objects deeper than `limit`. */
export function tooDeep(text: string, limit: number): boolean {
  return jsonDepth(text, limit) > limit;
}

/** UTF-8 bytes of `text`, counted without encoding it (a lone surrogate becomes U+FFFD: 3 bytes). */
export function utf8Bytes(text: string): number {
  let bytes = 0;
  const length = text.length;
  for (let i = 0; i < length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4;
        i++;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}

/**
 * The UTF-8 size of `value` as JSON, re-encoded as the Scheduler stores and frames it: numbers
 * are written out (`9e15` is 16 bytes, not 4), escapes resolved. Undefined counts as 0.
 */
export function jsonBytes(value: unknown): number {
  const text = JSON.stringify(value) as string | undefined;
  return text === undefined ? 0 : utf8Bytes(text);
}
