/** The error a reader throws when an object cannot be read as the format it was given. */
import type { InputFormat } from '../../../protocol/aggregate.ts';

export type ReaderErrorCode =
  /** The object has no bytes. */
  | 'empty'
  /** The bytes are not this format at all, or are truncated or corrupt. */
  | 'format'
  /** A CSV value does not parse as its column's sniffed type. */
  | 'value'
  /** The caller's AbortSignal fired. */
  | 'aborted';

export class ReaderError extends Error {
  override readonly name = 'ReaderError';

  constructor(
    readonly code: ReaderErrorCode,
    readonly key: string,
    readonly format: InputFormat,
    reason: string,
    /** s3://bucket/key, for the message. */
    where = key,
  ) {
    super(`cannot read ${where} as ${format}: ${reason}`);
  }
}

/** What a caught value says: its message, or the value itself as text. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
