/**
 * The Parquet reader's column values (readers/parquet/column-values.ts): dictionary indices
 * gathered into values or string codes, NULL rows zeroed, and an index past the dictionary
 * refused as corruption, wherever in the page it is.
 */
import { describe, expect, it } from 'vitest';
import {
  FixedValues,
  StringValues,
} from '../../worker-agent/aggregate/readers/parquet/column-values.ts';

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
