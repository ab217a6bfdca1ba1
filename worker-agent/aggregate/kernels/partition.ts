/** The radix partition of a group key given as JS values: the same partition the map kernels give that key. */
import {
  combineHash,
  hashBytes,
  hashFloat,
  hashWords,
  NULL_HASH,
  partitionOfHash,
} from './hash.ts';

/**
 * One key column's value as the kernels hash it: integers (any width, dates as days since the epoch,
 * timestamps and Time64 in their unit, booleans) as bigint or boolean; floats and decimals as number;
 * strings as string; NULL as null.
 */
export type KeyScalar = bigint | number | string | boolean | null;

const encoder = new TextEncoder();

/** The hash of one key column's value (as `KeyColumn.hash` computes it). */
export function hashScalar(value: KeyScalar): number {
  if (value === null) return NULL_HASH;
  if (typeof value === 'boolean') return hashWords(value ? 1 : 0, 0);
  if (typeof value === 'number') return hashFloat(value);
  if (typeof value === 'bigint') {
    const words = BigInt.asUintN(64, value);
    return hashWords(Number(words & 0xffff_ffffn) | 0, Number(words >> 32n) | 0);
  }
  const bytes = encoder.encode(value);
  return hashBytes(bytes, 0, bytes.length);
}

/** The hash of a whole group key (one value per group-by column). */
export function hashKey(values: readonly KeyScalar[]): number {
  let hash = 0;
  values.forEach((value, j) => {
    hash = j === 0 ? hashScalar(value) : combineHash(hash, hashScalar(value));
  });
  return hash;
}

/** The partition, among `partitions`, of the group whose key is `values` (deterministic across processes). */
export function partitionOf(values: readonly KeyScalar[], partitions: number): number {
  return values.length === 0 ? 0 : partitionOfHash(hashKey(values), partitions);
}
