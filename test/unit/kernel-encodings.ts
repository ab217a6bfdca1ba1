/** The same values in the other Arrow encodings readers may produce: dictionaries, LargeUtf8, Date64, timestamp units. */
import {
  Data,
  DataType,
  DateMillisecond,
  Dictionary,
  Field,
  Int32,
  LargeUtf8,
  RecordBatch,
  Schema,
  Struct,
  TimeUnit,
  Timestamp,
  Utf8,
  makeVector,
  vectorFromArray,
} from 'apache-arrow';

const NANOS: Record<TimeUnit, bigint> = {
  [TimeUnit.SECOND]: 1_000_000_000n,
  [TimeUnit.MILLISECOND]: 1_000_000n,
  [TimeUnit.MICROSECOND]: 1000n,
  [TimeUnit.NANOSECOND]: 1n,
};

/** Replaces column `name` of every batch with `convert(data)` (its type changes with it). */
export function mapColumn(
  batches: readonly RecordBatch[],
  name: string,
  convert: (data: Data) => Data,
): RecordBatch[] {
  return batches.map((batch) => {
    const index = batch.schema.fields.findIndex((field) => field.name === name);
    const children = batch.data.children.map((child, i) => (i === index ? convert(child) : child));
    const fields = batch.schema.fields.map((field, i) =>
      i === index ? new Field(name, children[i]!.type, true) : field,
    );
    const schema = new Schema(fields);
    return new RecordBatch(
      schema,
      new Data(new Struct(fields), 0, batch.numRows, 0, undefined, children),
    );
  });
}

let dictionaryIds = 0;

/** Column converters: the same values in the other Arrow encodings readers may produce. */
export const convert = {
  /** Utf8 → Dictionary<indices, Utf8>, with entries in reverse first-seen order and one entry no row uses. */
  dictionary(indexType: DataType = new Int32()) {
    const id = dictionaryIds++;
    return (data: Data): Data => {
      const vector = makeVector(data);
      const entries: string[] = [];
      const seen = new Map<string, number>();
      for (let i = 0; i < data.length; i++) {
        const value = vector.get(i) as string | null;
        if (value !== null && !seen.has(value)) seen.set(value, seen.size);
      }
      entries.push('never-used', ...[...seen.keys()].reverse());
      const position = new Map(entries.map((entry, i) => [entry, i]));
      const indices = new (
        indexType.ArrayType as new (n: number) => Int8Array | Int16Array | Int32Array
      )(data.length);
      for (let i = 0; i < data.length; i++) {
        const value = vector.get(i) as string | null;
        indices[i] = value === null ? 0 : position.get(value)!;
      }
      const type: DataType = new Dictionary(new Utf8(), indexType as Int32, id);
      const nullBitmap =
        data.nullCount > 0 ? bitmapOf(data.length, (i) => vector.isValid(i)) : undefined;
      return new Data(
        type,
        0,
        data.length,
        data.nullCount,
        [undefined, indices, nullBitmap],
        undefined,
        vectorFromArray(entries, new Utf8()),
      );
    };
  },
  largeUtf8(data: Data): Data {
    const vector = makeVector(data);
    const values = Array.from({ length: data.length }, (_, i) => vector.get(i) as string | null);
    return vectorFromArray(values, new LargeUtf8()).data[0]!;
  },
  date64(data: Data): Data {
    const days = data.values as Int32Array;
    const millis = BigInt64Array.from(days, (day) => BigInt(day) * 86_400_000n);
    const nullBitmap =
      data.nullCount > 0 ? bitmapOf(data.length, (i) => data.getValid(i)) : undefined;
    return new Data(new DateMillisecond(), 0, data.length, data.nullCount, [
      undefined,
      millis,
      nullBitmap,
    ]);
  },
  /** Microsecond timestamps of whole seconds → another unit (and time zone). */
  timestamp(unit: TimeUnit, timezone: string | null = null) {
    return (data: Data): Data => {
      const micros = data.values as BigInt64Array;
      const scaled = BigInt64Array.from(micros, (value) => (value * 1000n) / NANOS[unit]);
      const nullBitmap =
        data.nullCount > 0 ? bitmapOf(data.length, (i) => data.getValid(i)) : undefined;
      return new Data(new Timestamp(unit, timezone), 0, data.length, data.nullCount, [
        undefined,
        scaled,
        nullBitmap,
      ]);
    };
  },
};

function bitmapOf(length: number, valid: (i: number) => boolean): Uint8Array {
  const bits = new Uint8Array((length + 7) >> 3);
  for (let i = 0; i < length; i++) if (valid(i)) bits[i >> 3]! |= 1 << (i & 7);
  return bits;
}
