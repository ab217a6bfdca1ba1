/**
 * Hand-built Parquet files whose footer and page headers claim what their bytes do not hold: huge
 * row counts, pages that inflate far past their header, Snappy blocks with huge declared lengths.
 * A small Thrift compact-protocol writer, just what a one-column file needs.
 */
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

type Value =
  | { i32: number }
  | { i64: number }
  | { bin: string }
  | { i32s: number[] }
  | { bins: string[] }
  | { structs: Field[][] }
  | { struct: Field[] };
type Field = [id: number, value: Value];

const TYPE = { i32: 5, i64: 6, bin: 8, list: 9, struct: 12 } as const;

function varint(n: number, out: number[]): void {
  let v = n;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
}

const zigzag = (n: number) => (n >= 0 ? n * 2 : -n * 2 - 1);

function typeOf(value: Value): number {
  if ('i32' in value) return TYPE.i32;
  if ('i64' in value) return TYPE.i64;
  if ('bin' in value) return TYPE.bin;
  if ('struct' in value) return TYPE.struct;
  return TYPE.list;
}

function listHeader(size: number, type: number, out: number[]): void {
  if (size < 15) out.push((size << 4) | type);
  else {
    out.push(0xf0 | type);
    varint(size, out);
  }
}

function writeValue(value: Value, out: number[]): void {
  if ('i32' in value) varint(zigzag(value.i32), out);
  else if ('i64' in value) varint(zigzag(value.i64), out);
  else if ('bin' in value) {
    const bytes = Buffer.from(value.bin);
    varint(bytes.length, out);
    out.push(...bytes);
  } else if ('struct' in value) writeStruct(value.struct, out);
  else if ('i32s' in value) {
    listHeader(value.i32s.length, TYPE.i32, out);
    for (const n of value.i32s) varint(zigzag(n), out);
  } else if ('bins' in value) {
    listHeader(value.bins.length, TYPE.bin, out);
    for (const s of value.bins) writeValue({ bin: s }, out);
  } else {
    listHeader(value.structs.length, TYPE.struct, out);
    for (const s of value.structs) writeStruct(s, out);
  }
}

function writeStruct(fields: Field[], out: number[]): void {
  let last = 0;
  for (const [id, value] of fields) {
    out.push(((id - last) << 4) | typeOf(value));
    writeValue(value, out);
    last = id;
  }
  out.push(0);
}

export function thrift(fields: Field[]): Uint8Array {
  const out: number[] = [];
  writeStruct(fields, out);
  return Uint8Array.from(out);
}

export const PAGE = { DATA: 0, DICTIONARY: 2 } as const;
export const CODEC = {
  UNCOMPRESSED: 0,
  SNAPPY: 1,
  GZIP: 2,
  BROTLI: 4,
  LZ4: 5,
  ZSTD: 6,
  LZ4_RAW: 7,
} as const;

export interface HostilePage {
  type: number;
  /** The header's uncompressed size. */
  size: number;
  body: Uint8Array;
  /** Values the page header declares (data and dictionary pages). */
  values: number;
  /** Data page encoding: 0 PLAIN (default), 8 RLE_DICTIONARY. */
  encoding?: number;
}

/** A page header and its body. */
export function page(p: HostilePage): Uint8Array {
  const header = thrift([
    [1, { i32: p.type }],
    [2, { i32: p.size }],
    [3, { i32: p.body.length }],
    p.type === PAGE.DATA
      ? [
          5,
          {
            struct: [
              [1, { i32: p.values }],
              [2, { i32: p.encoding ?? 0 }],
              [3, { i32: 3 }],
              [4, { i32: 3 }],
            ],
          },
        ]
      : [
          7,
          {
            struct: [
              [1, { i32: p.values }],
              [2, { i32: 0 }],
            ],
          },
        ],
  ]);
  return Buffer.concat([header, p.body]);
}

/**
 * A file of one required INT64 column `x` in one row group that says it has `rows` rows, its
 * column chunk the given pages, its metadata listing `encodings` (default PLAIN and
 * RLE_DICTIONARY; one the JavaScript reader does not decode sends the file to parquet-wasm).
 */
export function hostileParquet(options: {
  rows: number;
  codec: number;
  pages: Uint8Array[];
  encodings?: number[];
}): Uint8Array {
  const chunk = Buffer.concat(options.pages);
  const start = 4;
  const footer = thrift([
    [1, { i32: 1 }],
    [
      2,
      {
        structs: [
          [
            [4, { bin: 'schema' }],
            [5, { i32: 1 }],
          ],
          [
            [1, { i32: 2 }],
            [3, { i32: 0 }],
            [4, { bin: 'x' }],
          ],
        ],
      },
    ],
    [3, { i64: options.rows }],
    [
      4,
      {
        structs: [
          [
            [
              1,
              {
                structs: [
                  [
                    [2, { i64: start }],
                    [
                      3,
                      {
                        struct: [
                          [1, { i32: 2 }],
                          [2, { i32s: options.encodings ?? [0, 8] }],
                          [3, { bins: ['x'] }],
                          [4, { i32: options.codec }],
                          [5, { i64: options.rows }],
                          [6, { i64: chunk.length }],
                          [7, { i64: chunk.length }],
                          [9, { i64: start }],
                        ],
                      },
                    ],
                  ],
                ],
              },
            ],
            [2, { i64: chunk.length }],
            [3, { i64: options.rows }],
          ],
        ],
      },
    ],
  ]);
  const length = Buffer.alloc(4);
  length.writeInt32LE(footer.length);
  return Buffer.concat([Buffer.from('PAR1'), chunk, footer, length, Buffer.from('PAR1')]);
}

/**
 * `bytes` zero bytes (a multiple of 16 MiB, or less) gzipped, as gzip members of 16 MiB each one
 * after the other, which gunzip reads as one stream: ~1 KB per MiB, made in milliseconds.
 */
export function gzipBomb(bytes: number): Uint8Array {
  const member = Math.min(bytes, 16 * 1024 * 1024);
  const one = gzipSync(Buffer.alloc(member), { level: 9 });
  return Buffer.concat(Array.from({ length: Math.ceil(bytes / member) }, () => one));
}

/**
 * A raw LZ4 block of one literal byte and then a match repeating it, `bytes` long in all: one
 * byte of block per 255 of output.
 */
export function lz4Bomb(bytes: number): Uint8Array {
  // A literal, a match of 4 + 15 + `extra` bytes, and the literal a block ends with.
  const extra = bytes - 2 - 4 - 15;
  const lengths = [...Array<number>(Math.floor(extra / 255)).fill(255), extra % 255];
  return Uint8Array.from([0x1f, 0, 1, 0, ...lengths, 0x10, 0]);
}

/** A Snappy block that says it holds `length` bytes, with one literal byte after that. */
export function snappyClaiming(length: number): Uint8Array {
  const out: number[] = [];
  varint(length, out);
  out.push(0, 0x41);
  return Uint8Array.from(out);
}

/** `bytes` zero bytes in Brotli (quality 1: fast, and still ~5,000 to 1). */
export function brotliBomb(bytes: number): Uint8Array {
  return brotliCompressSync(Buffer.alloc(bytes), {
    params: { [constants.BROTLI_PARAM_QUALITY]: 1 },
  });
}

/**
 * A zstd frame with no declared content size whose RLE blocks regenerate `bytes` zero bytes (a
 * multiple of 64 KiB): four bytes per 64 KiB, so 1 GiB in 64 KiB of page.
 */
export function zstdBomb(bytes: number): Uint8Array {
  const block = 64 * 1024;
  const count = bytes / block;
  const out = Buffer.alloc(6 + count * 4);
  out.writeUInt32LE(0xfd2fb528, 0);
  out[4] = 0; // no content size, not a single segment, no checksum, no dictionary
  out[5] = (17 - 10) << 3; // a 128 KiB window
  for (let i = 0; i < count; i++) {
    const header = (block << 3) | (1 << 1) | (i === count - 1 ? 1 : 0); // an RLE block
    out.writeUIntLE(header, 6 + i * 4, 3);
    out[6 + i * 4 + 3] = 0;
  }
  return out;
}
