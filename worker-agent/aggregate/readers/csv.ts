/** Reads a CSV object (header row, RFC 4180) as Arrow batches, typing columns the way DuckDB sniffs them. */
import { Field, RecordBatch, Schema, Struct, makeData } from 'apache-arrow';
import { columnBuilder, type ColumnBuilder } from './csv-columns.ts';
import { CsvSyntaxError, CsvTokenizer, type CsvRecord } from './csv-tokenizer.ts';
import { sniffTypes, type CsvType } from './csv-types.ts';
import { metered, type ReadContext } from './read-context.ts';

/** Rows DuckDB samples to sniff types (its `sample_size` default). */
export const CSV_SAMPLE_ROWS = 20_480;

/**
 * Most characters of values held at once: in the type sample (which then ends before
 * CSV_SAMPLE_ROWS rows), and in one batch (which then ends before `batchRows` rows). Records are at
 * most MAX_RECORD_CHARS each, so 20,480 long ones would otherwise make 40 GiB.
 */
export const CSV_HELD_CHARS = 64 * 1024 * 1024;

/** Characters of a record's values. */
function charsOf(record: CsvRecord): number {
  let chars = 0;
  for (const value of record.values) chars += value?.length ?? 0;
  return chars;
}

/** Header names as DuckDB makes them: empty ones become `column<i>`, repeats get `_1`, `_2`, ... */
export function columnNames(header: readonly (string | null)[]): string[] {
  const seen = new Set<string>();
  return header.map((raw, index) => {
    const base = raw ?? `column${index}`;
    let name = base;
    for (let n = 1; seen.has(name); n++) name = `${base}_${n}`;
    seen.add(name);
    return name;
  });
}

/** Records of the object, chunk by chunk; syntax and encoding errors name the line. */
async function* records(context: ReadContext): AsyncGenerator<CsvRecord[]> {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const tokenizer = new CsvTokenizer();
  let bytes = 0;
  try {
    for await (const chunk of metered(
      context,
      context.store.getStream(context.key, undefined, signalOf(context)),
    )) {
      bytes += chunk.byteLength;
      const out = tokenizer.push(decoder.decode(chunk, { stream: true }));
      if (out.length > 0) yield out;
    }
    const rest = tokenizer.push(decoder.decode());
    yield [...rest, ...tokenizer.finish()];
  } catch (error) {
    if (error instanceof CsvSyntaxError) throw context.fail('format', error.message);
    if (
      error instanceof TypeError &&
      (error as { code?: string }).code === 'ERR_ENCODING_INVALID_ENCODED_DATA'
    ) {
      throw context.fail(
        'format',
        `not UTF-8 text (invalid bytes within the first ${bytes} bytes): is it really CSV?`,
      );
    }
    throw error;
  }
  if (bytes === 0) {
    throw context.fail('empty', 'the object is empty (a CSV needs at least a header row)');
  }
}

function signalOf(context: ReadContext) {
  return context.signal ? { signal: context.signal } : {};
}

class BatchBuilder {
  private readonly builders: ColumnBuilder[];
  private rows = 0;
  private chars = 0;

  constructor(
    private readonly context: ReadContext,
    private readonly names: string[],
    private readonly types: CsvType[],
    private readonly sampled: number,
  ) {
    this.builders = types.map((type) => columnBuilder(type, context.batchRows));
  }

  get full(): boolean {
    return this.rows >= this.context.batchRows || this.chars >= CSV_HELD_CHARS;
  }

  add(record: CsvRecord): void {
    const { values, line } = record;
    if (values.length !== this.builders.length) {
      throw this.context.fail(
        'format',
        `line ${line} has ${values.length} fields, the header has ${this.builders.length}`,
      );
    }
    for (let column = 0; column < values.length; column++) {
      if (!this.builders[column]!.append(values[column]!)) {
        throw this.context.fail(
          'value',
          `line ${line}, column "${this.names[column]}": ${JSON.stringify(values[column])} is not a ${
            this.types[column]
          } (the type sniffed from the first ${this.sampled} rows)`,
        );
      }
    }
    this.rows++;
    this.chars += charsOf(record);
  }

  finish(): RecordBatch | null {
    if (this.rows === 0) return null;
    const children = this.builders.map((builder) => builder.finish());
    const fields = children.map((data, i) => new Field(this.names[i]!, data.type, true));
    const schema = new Schema(fields);
    const length = this.rows;
    this.rows = 0;
    this.chars = 0;
    return new RecordBatch(
      schema,
      makeData({ type: new Struct(fields), length, nullCount: 0, children }),
    );
  }
}

export async function* readCsv(context: ReadContext): AsyncGenerator<RecordBatch> {
  const source = records(context)[Symbol.asyncIterator]();
  try {
    let header: CsvRecord | undefined;
    const sample: CsvRecord[] = [];
    let sampled = 0;
    const sampling = () => sample.length < CSV_SAMPLE_ROWS && sampled < CSV_HELD_CHARS;
    let pending: CsvRecord[] = [];
    // The header, then up to CSV_SAMPLE_ROWS rows (or CSV_HELD_CHARS) to sniff the types from.
    while (sampling()) {
      const next = await source.next();
      if (next.done) break;
      const chunk = next.value;
      let at = 0;
      if (!header) header = chunk[at++];
      while (at < chunk.length && sampling()) {
        sampled += charsOf(chunk[at]!);
        sample.push(chunk[at++]!);
      }
      pending = chunk.slice(at);
    }
    if (!header) throw context.fail('empty', 'the object has no header row');
    const names = columnNames(header.values);
    const types = sniffTypes(
      sample.map((record) => record.values),
      names.length,
    );
    const batch = new BatchBuilder(context, names, types, sample.length);
    const feed = function* (rows: readonly CsvRecord[]): Generator<RecordBatch> {
      for (const record of rows) {
        batch.add(record);
        if (batch.full) yield batch.finish()!;
      }
    };
    yield* feed(sample.splice(0));
    yield* feed(pending);
    pending = [];
    for (let next = await source.next(); !next.done; next = await source.next())
      yield* feed(next.value);
    const last = batch.finish();
    if (last) yield last;
  } finally {
    await source.return?.(undefined);
  }
}
