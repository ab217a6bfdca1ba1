/** Deterministic 32-bit hashing of canonical key values: the same value hashes the same in every process. */

/** The hash of NULL in every column type. */
export const NULL_HASH = 0x2f6b_9a1d;
/** Float keys: NaN is one value (any payload), -0 equals 0. */
const NAN_HASH = 0x1b87_3593;
const SEED = 0x9e37_79b9;

/** Murmur3's finalizer: a bijective avalanche of 32 bits. */
export function mix32(value: number): number {
  let h = value | 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85eb_ca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2_ae35);
  h ^= h >>> 16;
  return h | 0;
}

const HIGH_ZERO = mix32(SEED);
const HIGH_MINUS_ONE = mix32(-1 ^ SEED);

/** A 64-bit integer given as its low and high 32-bit words (the sign lives in `hi`). */
export function hashWords(lo: number, hi: number): number {
  // The high word of most integers is 0 or -1: its mix is precomputed.
  return mix32(lo ^ (hi === 0 ? HIGH_ZERO : hi === -1 ? HIGH_MINUS_ONE : mix32(hi ^ SEED)));
}

/** An integer held in a JS number (any safe integer): the same hash as `hashWords` of its int64 words. */
export function hashInteger(value: number): number {
  if (value >= -0x8000_0000 && value <= 0xffff_ffff)
    return mix32((value | 0) ^ (value < 0 ? HIGH_MINUS_ONE : HIGH_ZERO));
  const hi = Math.floor(value / 0x1_0000_0000);
  return hashWords((value - hi * 0x1_0000_0000) | 0, hi | 0);
}

const scratch = new Float64Array(1);
const scratchWords = new Int32Array(scratch.buffer);

/** A float key by its IEEE-754 double bits, with NaN and -0 made canonical. */
export function hashFloat(value: number): number {
  if (value !== value) return NAN_HASH;
  scratch[0] = value === 0 ? 0 : value;
  return hashWords(scratchWords[0]!, scratchWords[1]!);
}

/** Murmur3 (x86, 32-bit) of `bytes[start, end)`. */
export function hashBytes(bytes: Uint8Array, start: number, end: number): number {
  let h = SEED;
  let i = start;
  for (; i + 4 <= end; i += 4) {
    let k = bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24);
    k = Math.imul(k, 0xcc9e_2d51);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, 0x1b87_3593);
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe654_6b64) | 0;
  }
  const rest = end - i;
  if (rest > 0) {
    let k = bytes[i]!;
    if (rest > 1) k |= bytes[i + 1]! << 8;
    if (rest > 2) k |= bytes[i + 2]! << 16;
    k = Math.imul(k, 0xcc9e_2d51);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, 0x1b87_3593);
  }
  return mix32(h ^ (end - start));
}

/** Folds the next key column's hash into a composite key's hash. */
export function combineHash(hash: number, next: number): number {
  return mix32((Math.imul(hash, 31) + next) | 0);
}

const PARTITION_SEED = 0x6a09_e667;

/** The radix partition of a group with key hash `hash`: an even spread over `partitions`. */
export function partitionOfHash(hash: number, partitions: number): number {
  if (partitions <= 1) return 0;
  return Math.floor(((mix32(hash ^ PARTITION_SEED) >>> 0) * partitions) / 0x1_0000_0000);
}
