/**
 * Which downstream instance a record goes to, pure. With a key, the record (a JSON object) goes
 * to the instance its key's value hashes to, so equal keys meet; a record without the key goes to
 * every instance (a control record, such as a DDL every instance must see). Without a key,
 * records are dealt round-robin.
 */
import { RecordError } from './record-lines.ts';
import { MISSING, scanKeyHash, UNSURE } from './record-key.ts';

export const EVERY = -1;
const SHORT_COPY = 256;

/** FNV-1a, 32 bits, over a string's UTF-16 code units: stable across agents and runs. */
export function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

/** The instance for a keyed record (a line without its newline), or EVERY. */
export function keyedInstance(line: Buffer, key: string, instances: number): number {
  const hash = scanKeyHash(line, key);
  if (hash === MISSING) return EVERY;
  return hash === UNSURE ? parsedInstance(line, key, instances) : hash % instances;
}

/** keyedInstance by JSON.parse: every record record-key.ts cannot vouch for, errors included. */
export function parsedInstance(line: Buffer, key: string, instances: number): number {
  let record: unknown;
  try {
    record = JSON.parse(line.toString('utf8'));
  } catch {
    throw new RecordError(
      `a record is not JSON, so it has no "${key}" to route by: ${preview(line)}`,
    );
  }
  if (typeof record !== 'object' || record === null || Array.isArray(record))
    throw new RecordError(`a record is not a JSON object, so it has no "${key}": ${preview(line)}`);
  // Its own fields only: a record without "toString" has none, whatever Object.prototype holds.
  if (!Object.hasOwn(record, key)) return EVERY;
  const value = (record as Record<string, unknown>)[key];
  if (value === null) return EVERY;
  return fnv1a(JSON.stringify(value)) % instances;
}

const preview = (line: Buffer) => {
  const text = line.subarray(0, 80).toString('utf8');
  return line.length > 80 ? `${text}…` : text;
};

/**
 * Each channel's lines (with their newlines) as one buffer, from the block's line spans
 * (record-lines.ts's lineSpans) and each line's channel or EVERY; runs of adjacent lines bound
 * for one channel are copied at once.
 */
export function gather(block: Buffer, spans: number[], to: Int32Array, channels: number): Buffer[] {
  const sizes = new Array<number>(channels).fill(0);
  for (let i = 0; i < to.length; i++) {
    const size = spans[2 * i + 1]! + 1 - spans[2 * i]!;
    if (to[i] === EVERY) for (let c = 0; c < channels; c++) sizes[c]! += size;
    else sizes[to[i]!]! += size;
  }
  // One channel with every line, none empty: the block itself.
  if (channels === 1 && sizes[0] === block.length) return [block];
  const parts = sizes.map((size) => Buffer.allocUnsafe(size));
  const filled = new Array<number>(channels).fill(0);
  const copy = (c: number, from: number, until: number) => {
    const part = parts[c]!;
    let at = filled[c]!;
    // A short run byte by byte: Buffer.copy's own cost (~0.15 µs) is more than that of its bytes.
    if (until - from > SHORT_COPY) at += block.copy(part, at, from, until);
    else for (let k = from; k < until; k++) part[at++] = block[k]!;
    filled[c] = at;
  };
  for (let i = 0; i < to.length;) {
    // A run: the next lines go to the same place and touch (no empty line between).
    let j = i + 1;
    while (j < to.length && to[j] === to[i] && spans[2 * j] === spans[2 * j - 1]! + 1) j++;
    const [from, until] = [spans[2 * i]!, spans[2 * j - 1]! + 1];
    if (to[i] === EVERY) for (let c = 0; c < channels; c++) copy(c, from, until);
    else copy(to[i]!, from, until);
    i = j;
  }
  return parts;
}
