/**
 * The typed arrays one column's row group decodes into. A reader whose caller is done with each
 * batch before asking for the next decodes every row group into the same arrays: a 1M-row split
 * then allocates a column's arrays once rather than once per row group, and the garbage collector,
 * which otherwise runs for every few row groups, has little to do.
 */
export type Purpose = 'values' | 'dictionary' | 'valid';

export interface ColumnArrays {
  /**
   * Reused arrays only: the WebAssembly instance (kernel lane) this column's dictionary pages
   * decode in, whose memory may then hold the row group's values in place until the column's next
   * row group (null: values are copied out of the kernel's memory).
   */
  readonly lane: number | null;
  /** `length` 32-bit words; a reused array holds the previous row group's words. */
  int32(purpose: Purpose, length: number): Int32Array;
  /** `length` bytes; a reused array holds the previous row group's bytes. */
  uint8(purpose: Purpose, length: number): Uint8Array;
}

export const freshArrays: ColumnArrays = {
  lane: null,
  int32: (_, length) => new Int32Array(length),
  uint8: (_, length) => new Uint8Array(length),
};

/**
 * Arrays handed out again for every row group, each grown when a row group needs more; `lane`
 * is the column's own kernel instance (one per column a reader decodes at once).
 */
export function reusedArrays(lane: number): ColumnArrays {
  return {
    lane,
    int32: reused((length) => new Int32Array(length)),
    uint8: reused((length) => new Uint8Array(length)),
  };
}

/** One array per purpose, made by `make` and grown (afresh) when asked for more than it holds. */
function reused<T extends Int32Array | Uint8Array>(make: (length: number) => T) {
  const arrays = new Map<Purpose, T>();
  return (purpose: Purpose, length: number): T => {
    let array = arrays.get(purpose);
    if (!array || array.length < length) arrays.set(purpose, (array = make(length)));
    return array.subarray(0, length) as T;
  };
}
