/** Parquet's enum values (parquet.thrift) that the reader acts on. */

export const Physical = {
  BOOLEAN: 0,
  INT32: 1,
  INT64: 2,
  INT96: 3,
  FLOAT: 4,
  DOUBLE: 5,
  BYTE_ARRAY: 6,
  FIXED_LEN_BYTE_ARRAY: 7,
} as const;

export const Repetition = { REQUIRED: 0, OPTIONAL: 1, REPEATED: 2 } as const;

export const Converted = {
  UTF8: 0,
  DECIMAL: 5,
  DATE: 6,
  UINT_8: 11,
  UINT_16: 12,
  UINT_32: 13,
  UINT_64: 14,
  INT_8: 15,
  INT_16: 16,
  INT_32: 17,
  INT_64: 18,
} as const;

/** Field ids of the LogicalType union. */
export const Logical = {
  STRING: 1,
  DECIMAL: 5,
  DATE: 6,
  TIMESTAMP: 8,
  INTEGER: 10,
  JSON: 12,
} as const;

export const Encoding = {
  PLAIN: 0,
  PLAIN_DICTIONARY: 2,
  RLE: 3,
  /** Deprecated, for levels only: listed by old writers whose required columns have none. */
  BIT_PACKED: 4,
  RLE_DICTIONARY: 8,
} as const;

export const Codec = {
  UNCOMPRESSED: 0,
  SNAPPY: 1,
  GZIP: 2,
  LZO: 3,
  BROTLI: 4,
  /** Deprecated: Hadoop's LZ4 framing, or from some writers one raw LZ4 block. */
  LZ4: 5,
  ZSTD: 6,
  LZ4_RAW: 7,
} as const;

export const PageType = {
  DATA_PAGE: 0,
  INDEX_PAGE: 1,
  DICTIONARY_PAGE: 2,
  DATA_PAGE_V2: 3,
} as const;
