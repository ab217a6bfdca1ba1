/** Column builders that parse CSV text straight into Arrow buffers, one batch at a time. */
import {
  Bool,
  DateDay,
  Float64,
  Int64,
  TimestampMicrosecond,
  Utf8,
  makeData,
  type Data,
  type DataType,
} from 'apache-arrow';
import {
  parseBigint,
  parseBoolean,
  parseDate,
  parseDouble,
  parseTimestamp,
  type CsvType,
} from './csv-types.ts';

export interface ColumnBuilder {
  readonly type: DataType;
  /** Appends a value; false when the text does not parse as the column's type (nothing appended). */
  append(value: string | null): boolean;
  /** The values appended since the last finish, as Arrow data; the builder starts over empty. */
  finish(): Data;
}

/** Validity bits and count, shared by every builder. */
class Validity {
  bits: Uint8Array;
  nulls = 0;
  constructor(capacity: number) {
    this.bits = new Uint8Array(Math.ceil(capacity / 8));
  }
  set(index: number, valid: boolean): void {
    if (valid) this.bits[index >> 3]! |= 1 << (index & 7);
    else this.nulls++;
  }
  props(length: number) {
    return this.nulls === 0
      ? { nullCount: 0 }
      : { nullCount: this.nulls, nullBitmap: this.bits.subarray(0, Math.ceil(length / 8)) };
  }
}

type Fixed = BigInt64Array | Float64Array | Int32Array;

/** Builders for the fixed-width types: one typed array of `capacity` values per batch. */
type ValidityProps = ReturnType<Validity['props']>;

function fixedBuilder<A extends Fixed>(
  capacity: number,
  allocate: (n: number) => A,
  parse: (text: string) => A[number] | undefined,
  make: (values: A, length: number, validity: ValidityProps) => Data,
): ColumnBuilder {
  let values = allocate(capacity);
  let validity = new Validity(capacity);
  let length = 0;
  const type = make(allocate(0), 0, { nullCount: 0 }).type;
  return {
    type,
    append(text) {
      if (text === null) {
        validity.set(length++, false);
        return true;
      }
      const value = parse(text);
      if (value === undefined) return false;
      values[length] = value;
      validity.set(length++, true);
      return true;
    },
    finish() {
      const data = make(values.subarray(0, length) as A, length, validity.props(length));
      values = allocate(capacity);
      validity = new Validity(capacity);
      length = 0;
      return data;
    },
  };
}

function boolBuilder(capacity: number): ColumnBuilder {
  const type = new Bool();
  let bits = new Uint8Array(Math.ceil(capacity / 8));
  let validity = new Validity(capacity);
  let length = 0;
  return {
    type,
    append(text) {
      if (text === null) {
        validity.set(length++, false);
        return true;
      }
      const value = parseBoolean(text);
      if (value === undefined) return false;
      if (value) bits[length >> 3]! |= 1 << (length & 7);
      validity.set(length++, true);
      return true;
    },
    finish() {
      const data = makeData({
        type,
        length,
        data: bits.subarray(0, Math.ceil(length / 8)),
        ...validity.props(length),
      });
      bits = new Uint8Array(Math.ceil(capacity / 8));
      validity = new Validity(capacity);
      length = 0;
      return data;
    },
  };
}

function utf8Builder(capacity: number): ColumnBuilder {
  const type = new Utf8();
  let strings: string[] = [];
  let validity = new Validity(capacity);
  return {
    type,
    append(text) {
      validity.set(strings.length, text !== null);
      strings.push(text ?? '');
      return true;
    },
    finish() {
      const length = strings.length;
      const offsets = new Int32Array(length + 1);
      let bytes = 0;
      for (let i = 0; i < length; i++) {
        bytes += Buffer.byteLength(strings[i]!, 'utf8');
        offsets[i + 1] = bytes;
      }
      const data = Buffer.allocUnsafe(bytes);
      for (let i = 0; i < length; i++) data.write(strings[i]!, offsets[i]!, 'utf8');
      const out = makeData({
        type,
        length,
        valueOffsets: offsets,
        data: new Uint8Array(data.buffer, data.byteOffset, bytes),
        ...validity.props(length),
      });
      strings = [];
      validity = new Validity(capacity);
      return out;
    },
  };
}

export function columnBuilder(type: CsvType, capacity: number): ColumnBuilder {
  switch (type) {
    case 'BOOLEAN':
      return boolBuilder(capacity);
    case 'BIGINT':
      return fixedBuilder(
        capacity,
        (n) => new BigInt64Array(n),
        parseBigint,
        (data, length, validity) => makeData({ type: new Int64(), length, data, ...validity }),
      );
    case 'DOUBLE':
      return fixedBuilder(
        capacity,
        (n) => new Float64Array(n),
        parseDouble,
        (data, length, validity) => makeData({ type: new Float64(), length, data, ...validity }),
      );
    case 'DATE':
      return fixedBuilder(
        capacity,
        (n) => new Int32Array(n),
        parseDate,
        (data, length, validity) => makeData({ type: new DateDay(), length, data, ...validity }),
      );
    case 'TIMESTAMP':
      return fixedBuilder(
        capacity,
        (n) => new BigInt64Array(n),
        parseTimestamp,
        (data, length, validity) =>
          makeData({ type: new TimestampMicrosecond(), length, data, ...validity }),
      );
    case 'VARCHAR':
      return utf8Builder(capacity);
  }
}
