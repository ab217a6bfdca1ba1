/**
 * The Parquet reader's column values (readers/parquet/column-values.ts): dictionary indices
 * gathered into values or string codes, NULL rows zeroed, and an index past the dictionary
 * refused as corruption, wherever in the page it is; the WebAssembly decoder of whole pages
 * against the TypeScript one.
 */
import { describe, expect, it } from 'vitest';
import {
  FixedValues,
  StringValues,
  type PageRows,
} from '../../worker-agent/aggregate/readers/parquet/column-values.ts';
import { HybridReader } from '../../worker-agent/aggregate/readers/parquet/hybrid.ts';

/** PLAIN bytes of `values` as 32-bit little-endian integers. */
const int32s = (values: number[]) => new Uint8Array(Int32Array.from(values).buffer);
/** PLAIN byte arrays: each a 4-byte length, then its bytes. */
function byteArrays(values: string[]): Uint8Array {
  const parts = values.flatMap((value) => {
    const bytes = new TextEncoder().encode(value);
    return [...int32s([bytes.length]), ...bytes];
  });
  return Uint8Array.from(parts);
}
const dense = (count: number, row = 0) => ({ row, count, valid: null, values: count });

describe('dictionary indices', () => {
  it('gather 32-bit values and string codes, with NULL rows zeroed', () => {
    const ints = new FixedValues(8, 4);
    ints.setDictionary(int32s([10, 20, 30]), 3);
    ints.indices(Int32Array.of(2, 0, 1, 1, 2), dense(5));
    expect([...ints.words.subarray(0, 5)]).toEqual([30, 10, 20, 20, 30]);

    const strings = new StringValues(8);
    strings.setDictionary(byteArrays(['a', 'b', 'c']), 3);
    const valid = Uint8Array.of(1, 0, 1, 1, 0, 1);
    // One index per non-NULL row, and the slot past them that the reader's scratch always has.
    strings.indices(Int32Array.of(2, 1, 0, 2, 0), { row: 1, count: 6, valid, values: 4 });
    expect([...strings.codes.subarray(1, 7)]).toEqual([2, 0, 1, 0, 0, 2]);
  });

  it('refuse an index past the dictionary at any position, and a negative one', () => {
    for (let position = 0; position < 7; position++) {
      for (const bad of [3, 1000, -1]) {
        const indices = Int32Array.from({ length: 7 }, (_, i) => (i === position ? bad : i % 3));
        const ints = new FixedValues(8, 8);
        ints.setDictionary(new Uint8Array(24), 3);
        expect(() => ints.indices(indices, dense(7))).toThrow(
          /dictionary index \d+ is past the 3 entries/,
        );
        const strings = new StringValues(8);
        strings.setDictionary(byteArrays(['a', 'b', 'c']), 3);
        expect(() => strings.indices(indices, dense(7))).toThrow(/past the 3 entries/);
      }
    }
  });
});

/** Deterministic pseudo-random integers in [0, n). */
function randomInts(seed: number): (n: number) => number {
  let state = seed;
  return (n) => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return Math.floor((state / 2 ** 31) * n);
  };
}

/**
 * A dictionary-encoded page's encoding (bit width, then hybrid runs) of at least `count` indices
 * below `size` and 2^width: RLE runs and bit-packed groups in random turns, the last group cut
 * short or not.
 */
function encodePage(random: (n: number) => number, width: number, size: number, count: number) {
  const bytes = [width];
  const index = () => random(Math.min(size, 2 ** width));
  const push = (value: number, length: number) => {
    for (let b = 0; b < length; b++) bytes.push(Math.floor(value / 2 ** (8 * b)) % 256);
  };
  const varint = (n: number) => {
    for (; n >= 128; n = Math.floor(n / 128)) bytes.push((n % 128) | 128);
    bytes.push(n);
  };
  for (let written = 0; written < count;) {
    if (random(2)) {
      const run = 1 + random(40);
      varint(run * 2);
      push(index(), (width + 7) >> 3);
      written += run;
      continue;
    }
    // Now and then a long run, which the kernel decodes CHUNK (1024) indices at a time.
    const groups = random(8) === 0 ? 1 + random(300) : 1 + random(6);
    const values = Array.from({ length: groups * 8 }, index);
    varint(groups * 2 + 1);
    const packed = new Uint8Array(groups * width);
    values.forEach((value, i) => {
      for (let b = 0; b < width; b++) {
        const bit = i * width + b;
        if (Math.floor(value / 2 ** b) % 2) packed[bit >> 3]! |= 1 << (bit & 7);
      }
    });
    written += values.length;
    // The last run may end after the bytes of its last value.
    const keep = written >= count ? Math.ceil(((count - written + values.length) * width) / 8) : 0;
    bytes.push(...packed.subarray(0, keep || packed.length));
  }
  return Uint8Array.from(bytes);
}

type Decoded = { words: number[] } | { error: string };

/** Decodes `encoded` with WebAssembly if `wasm`, else as the reader does without it. */
function decodeWith(
  wasm: boolean,
  make: () => FixedValues | StringValues,
  encoded: Uint8Array,
  page: PageRows,
): Decoded {
  const values = make();
  const out = () => [...(values instanceof FixedValues ? values.words : values.codes)];
  if (wasm) return values.wasmIndices(encoded, page) ? { words: out() } : { error: 'refused' };
  try {
    const indices = new Int32Array(page.values + 1);
    new HybridReader(encoded, 1, encoded.length).read(encoded[0]!, page.values, indices);
    values.indices(indices, page);
    return { words: out() };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

const nextByte = randomInts(5);
const ENTRIES = new Uint8Array(5000 * 8).map(() => nextByte(256));
const stringDictionaries = new Map<number, Uint8Array>();
const stringsOf = (size: number) => {
  if (!stringDictionaries.has(size))
    stringDictionaries.set(size, byteArrays(Array.from({ length: size }, String)));
  return stringDictionaries.get(size)!;
};

/** Rows a decoded page may take: its first row (under 50) and its rows (up to 4,000). */
const CAPACITY = 4100;

describe('dictionary pages in WebAssembly (dictionary-page.c)', () => {
  it('decode random pages exactly as the TypeScript reader does, and refuse what it refuses', () => {
    const random = randomInts(11);
    let refused = 0;
    for (let trial = 0; trial < 800; trial++) {
      const size = [1, 3, 300, 5000][random(4)]!;
      // Widths that fit the dictionary, wider (any, to 32: each has its own unpacking), and
      // narrower, where a run value past the width may still be an entry of the dictionary.
      const fits = Math.ceil(Math.log2(size));
      const wider = fits + random(33 - fits);
      const width = [fits, wider, Math.max(0, fits - 1 - random(3))][random(3)]!;
      const rows = random(4) === 0 ? 1 + random(4000) : 1 + random(600);
      const valid = random(2) ? Uint8Array.from({ length: rows }, () => (random(5) ? 1 : 0)) : null;
      const present = valid ? valid.reduce((a, b) => a + b, 0) : rows;
      if (present === 0) continue;
      const page = { row: random(50), count: rows, valid, values: present };
      const encoded = encodePage(random, width, size, present);
      // Every third page has a byte or two changed, which the decoders must agree on too.
      for (let flips = trial % 3 === 0 ? 1 + random(2) : 0; flips > 0; flips--)
        encoded[random(encoded.length)] = random(256);
      const kind = random(3);
      const make = () => {
        if (kind === 2) {
          const strings = new StringValues(CAPACITY);
          strings.setDictionary(stringsOf(size), size);
          return strings;
        }
        const fixed = new FixedValues(CAPACITY, kind === 0 ? 4 : 8);
        fixed.setDictionary(ENTRIES.subarray(0, size * 8), size);
        return fixed;
      };
      const expected = decodeWith(false, make, encoded, page);
      const actual = decodeWith(true, make, encoded, page);
      if ('error' in expected) {
        refused++;
        expect(actual).toEqual({ error: 'refused' });
      } else expect(actual).toEqual(expected);
    }
    expect(refused).toBeGreaterThan(10);
  });
});
