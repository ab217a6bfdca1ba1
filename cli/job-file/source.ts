/** A job file's text once parsed: its value, and the line of any key path in it. */
import type { KeyPath } from './key-path.ts';

export interface ParsedSource {
  value: unknown;
  /** The line where `path` is written, else that of its nearest ancestor in the file. */
  lineOf(path: KeyPath): number | undefined;
}

/** The text is not valid TOML, YAML or JSON: where, and what the parser said. */
export class SourceSyntaxError extends Error {
  constructor(
    readonly line: number,
    readonly column: number | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'SourceSyntaxError';
  }
}
