/** A streaming RFC 4180 tokenizer: comma-separated, `"`-quoted fields with `""` escapes, LF or CRLF ends. */

/** One record; an empty field (quoted or not) is null, as DuckDB reads it. */
export interface CsvRecord {
  values: (string | null)[];
  /** 1-based line where the record starts (the header is line 1). */
  line: number;
}

export class CsvSyntaxError extends Error {
  constructor(
    readonly line: number,
    reason: string,
  ) {
    super(`line ${line}: ${reason}`);
  }
}

/**
 * Longest record, in characters: DuckDB's `max_line_size` default (2 MiB). A longer one (a file
 * with no line ends, say) is refused rather than gathered into one string until memory runs out.
 */
export const MAX_RECORD_CHARS = 2 * 1024 * 1024;

const QUOTE = 34;
const COMMA = 44;
const LF = 10;
const CR = 13;

const enum State {
  /** At the start of a field, or just after one (a delimiter or a line end is next). */
  Start,
  Unquoted,
  Quoted,
  /** Inside a quoted field, just after a `"`: either an escaped quote or the field's end. */
  QuoteSeen,
}

export class CsvTokenizer {
  private state = State.Start;
  private field = '';
  private quoted = false;
  private values: (string | null)[] = [];
  private line = 1;
  private recordLine = 1;
  private skipLF = false;
  /** Characters of the current record so far (fields and delimiters). */
  private recordChars = 0;

  /** Counts `count` more characters of the record; throws once it is too long. */
  private grow(count: number): void {
    this.recordChars += count;
    if (this.recordChars > MAX_RECORD_CHARS) {
      throw new CsvSyntaxError(
        this.recordLine,
        `a record longer than ${MAX_RECORD_CHARS} characters (DuckDB's max_line_size): is it really CSV?`,
      );
    }
  }

  /** Feeds decoded text; returns the records it completed. */
  push(text: string): CsvRecord[] {
    const out: CsvRecord[] = [];
    const n = text.length;
    let i = 0;
    if (this.skipLF && n > 0) {
      this.skipLF = false;
      if (text.charCodeAt(0) === LF) i = 1;
    }
    while (i < n) {
      switch (this.state) {
        case State.Start: {
          const c = text.charCodeAt(i);
          if (c === QUOTE) {
            if (this.field !== '') {
              throw new CsvSyntaxError(this.line, 'a quote inside an unquoted field');
            }
            this.state = State.Quoted;
            this.quoted = true;
            i++;
          } else if (c === COMMA) {
            this.grow(1);
            this.endField();
            i++;
          } else if (c === LF || c === CR) {
            this.endField();
            this.endRecord(out);
            i++;
            if (c === CR) {
              if (i < n) {
                if (text.charCodeAt(i) === LF) i++;
              } else this.skipLF = true;
            }
            this.line++;
            this.recordLine = this.line;
          } else {
            this.state = State.Unquoted;
          }
          break;
        }
        case State.Unquoted: {
          let j = i;
          while (j < n) {
            const c = text.charCodeAt(j);
            if (c === COMMA || c === LF || c === CR) break;
            j++;
          }
          this.grow(j - i);
          this.field += text.slice(i, j);
          i = j;
          if (j < n) this.state = State.Start;
          break;
        }
        case State.Quoted: {
          const j = text.indexOf('"', i);
          const end = j < 0 ? n : j;
          this.grow(end - i + 1);
          const piece = text.slice(i, end);
          this.field += piece;
          this.line += countLF(piece);
          i = j < 0 ? n : j + 1;
          if (j >= 0) this.state = State.QuoteSeen;
          break;
        }
        case State.QuoteSeen: {
          const c = text.charCodeAt(i);
          if (c === QUOTE) {
            this.field += '"';
            this.state = State.Quoted;
            i++;
          } else if (c === COMMA || c === LF || c === CR) {
            this.state = State.Start;
          } else {
            throw new CsvSyntaxError(
              this.line,
              `unexpected ${JSON.stringify(text[i])} after a closing quote`,
            );
          }
          break;
        }
      }
    }
    return out;
  }

  /** Ends the input: returns the last record if it had no line end; throws on an open quote. */
  finish(): CsvRecord[] {
    if (this.state === State.Quoted) {
      throw new CsvSyntaxError(this.recordLine, 'a quoted field is never closed (truncated file?)');
    }
    const out: CsvRecord[] = [];
    if (this.state !== State.Start || this.values.length > 0 || this.field !== '') {
      this.endField();
      this.endRecord(out);
    }
    this.state = State.Start;
    return out;
  }

  private endField(): void {
    this.values.push(this.field === '' ? null : this.field);
    this.field = '';
    this.state = State.Start;
  }

  private endRecord(out: CsvRecord[]): void {
    const blank = this.values.length === 1 && this.values[0] === null && !this.quoted;
    if (!blank) out.push({ values: this.values, line: this.recordLine });
    this.values = [];
    this.quoted = false;
    this.recordChars = 0;
  }
}

function countLF(text: string): number {
  let count = 0;
  for (let at = text.indexOf('\n'); at >= 0; at = text.indexOf('\n', at + 1)) count++;
  return count;
}
