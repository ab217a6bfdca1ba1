/** What the Parquet reader throws: bytes that break the format, and files it leaves to parquet-wasm. */

/** The bytes are not valid Parquet (corrupt or truncated). */
export class ParquetFormatError extends Error {
  override name = 'ParquetFormatError';
}
