/**
 * Which downstream instance a record goes to, pure. With a key, the record (a JSON object) goes
 * to the instance its key's value hashes to, so equal keys meet; a record without the key goes to
 * every instance (a control record, such as a DDL every instance must see). Without a key,
 * records are dealt round-robin.
 */
import { RecordError } from './record-lines.ts';

export const EVERY = -1;

/** FNV-1a, 32 bits, over a string's UTF-16 code units: stable across agents and runs. */
export function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

/** The instance for a keyed record, or EVERY. */
export function keyedInstance(line: Buffer, key: string, instances: number): number {
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
  const value = (record as Record<string, unknown>)[key];
  if (value === undefined || value === null) return EVERY;
  return fnv1a(JSON.stringify(value)) % instances;
}

const preview = (line: Buffer) => {
  const text = line.subarray(0, 80).toString('utf8');
  return line.length > 80 ? `${text}…` : text;
};
