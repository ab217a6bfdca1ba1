/**
 * Reads Thrift's compact protocol, the encoding of Parquet's footer and page headers, into plain
 * values: a struct is a sparse array indexed by field id. Every read is bounds-checked, so a corrupt
 * footer or header throws a ParquetFormatError instead of reading past the bytes.
 */
import { ParquetFormatError } from './errors.ts';

export type ThriftValue = number | boolean | Uint8Array | ThriftValue[] | ThriftStruct;
/** Field id → value; fields the writer left out are undefined. */
export type ThriftStruct = (ThriftValue | undefined)[];

const STOP = 0;
const TRUE = 1;
const FALSE = 2;
const BYTE = 3;
const I16 = 4;
const I32 = 5;
const I64 = 6;
const DOUBLE = 7;
const BINARY = 8;
const LIST = 9;
const SET = 10;
const MAP = 11;
const STRUCT = 12;
/** Nesting deeper than Parquet's own structs ever go is corruption, not data. */
const MAX_DEPTH = 32;

export class ThriftReader {
  constructor(
    private readonly bytes: Uint8Array,
    public position = 0,
    private readonly end = bytes.length,
  ) {}

  /** One struct, from its first field header to its STOP byte. */
  readStruct(depth = 0): ThriftStruct {
    if (depth > MAX_DEPTH) throw new ParquetFormatError('Thrift structs nest too deep');
    const struct: ThriftStruct = [];
    let field = 0;
    for (;;) {
      const header = this.byte();
      const type = header & 0x0f;
      if (type === STOP) return struct;
      const delta = header >> 4;
      field = delta === 0 ? zigzag(this.varint()) : field + delta;
      if (field < 0 || field > 32767) throw new ParquetFormatError(`bad Thrift field id ${field}`);
      struct[field] = type === TRUE ? true : type === FALSE ? false : this.value(type, depth);
    }
  }

  private value(type: number, depth: number): ThriftValue {
    switch (type) {
      case TRUE:
        return this.byte() === TRUE;
      case BYTE: {
        const b = this.byte();
        return b > 127 ? b - 256 : b;
      }
      case I16:
      case I32:
      case I64:
        return zigzag(this.varint());
      case DOUBLE: {
        this.need(8);
        const view = new DataView(this.bytes.buffer, this.bytes.byteOffset + this.position, 8);
        this.position += 8;
        return view.getFloat64(0, true);
      }
      case BINARY: {
        const length = this.varint();
        this.need(length);
        const value = this.bytes.subarray(this.position, this.position + length);
        this.position += length;
        return value;
      }
      case LIST:
      case SET:
        return this.list(depth);
      case MAP:
        return this.map(depth);
      case STRUCT:
        return this.readStruct(depth + 1);
      default:
        throw new ParquetFormatError(`unknown Thrift type ${type}`);
    }
  }

  private list(depth: number): ThriftValue[] {
    const header = this.byte();
    const size = header >> 4 === 15 ? this.varint() : header >> 4;
    const type = header & 0x0f;
    // Every element takes at least one byte, so a size beyond the bytes left is corruption.
    this.need(size);
    const items: ThriftValue[] = new Array<ThriftValue>(size);
    for (let i = 0; i < size; i++) items[i] = this.value(type === FALSE ? TRUE : type, depth + 1);
    return items;
  }

  /** Parquet has no maps in its footer; one is read as a flat [key, value, ...] list. */
  private map(depth: number): ThriftValue[] {
    const size = this.varint();
    if (size === 0) return [];
    const types = this.byte();
    this.need(size);
    const items: ThriftValue[] = [];
    for (let i = 0; i < size; i++) {
      items.push(this.value(types >> 4, depth + 1), this.value(types & 0x0f, depth + 1));
    }
    return items;
  }

  private byte(): number {
    this.need(1);
    return this.bytes[this.position++]!;
  }

  /** An unsigned LEB128 varint as a number (exact up to 2^53). */
  private varint(): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      const b = this.byte();
      result += (b & 0x7f) * scale;
      if (b < 0x80) return result;
      scale *= 128;
    }
    throw new ParquetFormatError('a Thrift varint is longer than 10 bytes');
  }

  private need(count: number): void {
    if (this.position + count > this.end) {
      throw new ParquetFormatError('Thrift data ends early (truncated or corrupt)');
    }
  }
}

function zigzag(n: number): number {
  return n % 2 === 0 ? n / 2 : -(n + 1) / 2;
}

/** Typed field access for the metadata readers: a missing or mistyped field is corruption. */
export const field = {
  int(struct: ThriftStruct, id: number, what: string): number {
    const value = struct[id];
    if (typeof value !== 'number') throw missing(what);
    return value;
  },
  optionalInt(struct: ThriftStruct, id: number): number | undefined {
    const value = struct[id];
    return typeof value === 'number' ? value : undefined;
  },
  struct(struct: ThriftStruct, id: number, what: string): ThriftStruct {
    const value = struct[id];
    if (!Array.isArray(value)) throw missing(what);
    return value as ThriftStruct;
  },
  optionalStruct(struct: ThriftStruct, id: number): ThriftStruct | undefined {
    const value = struct[id];
    return Array.isArray(value) ? (value as ThriftStruct) : undefined;
  },
  list(struct: ThriftStruct, id: number, what: string): ThriftValue[] {
    const value = struct[id];
    if (!Array.isArray(value)) throw missing(what);
    return value as ThriftValue[];
  },
  string(struct: ThriftStruct, id: number): string | undefined {
    const value = struct[id];
    return value instanceof Uint8Array ? new TextDecoder().decode(value) : undefined;
  },
  bool(struct: ThriftStruct, id: number): boolean | undefined {
    const value = struct[id];
    return typeof value === 'boolean' ? value : undefined;
  },
};

function missing(what: string): ParquetFormatError {
  return new ParquetFormatError(`the Parquet metadata lacks ${what}`);
}
