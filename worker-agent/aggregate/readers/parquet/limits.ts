/**
 * What the reader accepts of a file's own claims before it allocates for them: a hostile footer or
 * page header could otherwise make it reserve gigabytes from a few bytes (a 107-byte file asked for
 * ~1 GB). Past these a file is refused, with the column and the figure named.
 */

/**
 * Most bytes one page may decompress to. Writers cut pages at ~1 MiB (parquet-mr, arrow-rs,
 * DuckDB) and fall back from dictionary to plain pages near that size, so 64 MiB is far from any
 * written file and bounds what a page header's `uncompressed_page_size` can make the reader take.
 */
export const MAX_PAGE_BYTES = 64 * 1024 * 1024;

/**
 * Most bytes a row group's projected columns may decode to (values, validity and levels). A
 * 1M-row group of 16 64-bit columns is 128 MiB; beyond 256 MiB a group's row count is refused
 * before any array for it exists.
 */
export const MAX_DECODED_GROUP_BYTES = 256 * 1024 * 1024;

/**
 * Snappy's best ratio: a 3-byte copy element writes at most 64 bytes. A block that says it holds
 * more than this many times its own length is lying, whatever its pages say.
 */
export const SNAPPY_MAX_RATIO = 64 / 3;

/** `bytes` in MiB, for messages. */
export function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(bytes < 1024 * 1024 ? 2 : 0)} MiB`;
}
