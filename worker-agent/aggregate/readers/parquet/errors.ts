/** What the Parquet reader throws: bytes that break the format, and valid files it does not read. */

/** The bytes are not valid Parquet (corrupt or truncated). */
export class ParquetFormatError extends Error {
  override name = 'ParquetFormatError';
}

/**
 * The file may well be valid, but uses a feature the reader does not read (or a size past its
 * limits): the message names the feature, and the file is never called corrupt for it.
 */
export class ParquetUnsupportedError extends ParquetFormatError {
  override name = 'ParquetUnsupportedError';
}

/** The reason a row group fails, for the reader's error: corrupt, or not read and why. */
export function rowGroupFailure(group: number, error: ParquetFormatError): string {
  const verdict = error instanceof ParquetUnsupportedError ? 'cannot be read' : 'is corrupt';
  return `row group ${group} ${verdict}: ${error.message}`;
}

/** `error`, when the reader's own, with the column it is about in front of its message. */
export function inColumn(name: string, error: unknown): unknown {
  if (!(error instanceof ParquetFormatError)) return error;
  const message = `column ${name}: ${error.message}`;
  return error instanceof ParquetUnsupportedError
    ? new ParquetUnsupportedError(message)
    : new ParquetFormatError(message);
}
