/**
 * The JavaScript Parquet reader, on files DuckDB and arrow-rs (parquet-wasm) write with every codec,
 * page version and encoding mix it claims: each read through a real s3rver yields exactly the rows
 * DuckDB reads from the same file. Files it leaves to parquet-wasm still read the same.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import type { RecordBatch } from 'apache-arrow';
import {
  Compression,
  readParquet,
  Table as WasmTable,
  WriterPropertiesBuilder,
  WriterVersion,
  writeParquet,
} from 'parquet-wasm';
import { readSplit } from '../../worker-agent/aggregate/readers/index.ts';
import { ReaderError } from '../../worker-agent/aggregate/readers/errors.ts';
import { parseMetadata } from '../../worker-agent/aggregate/readers/parquet/metadata.ts';
import { unsupportedReason } from '../../worker-agent/aggregate/readers/parquet/row-group.ts';
import { snappyDecompress } from '../../worker-agent/aggregate/readers/parquet/snappy.ts';
import { wasmSnappy } from '../../worker-agent/aggregate/readers/parquet/snappy-wasm.ts';
import { decompress } from '../../worker-agent/aggregate/readers/parquet/codecs.ts';
import { Codec } from '../../worker-agent/aggregate/readers/parquet/format.ts';
import { HybridReader } from '../../worker-agent/aggregate/readers/parquet/hybrid.ts';
import { kernel } from '../../worker-agent/aggregate/readers/parquet/wasm-kernel.ts';
import { attachedValidityBytes } from '../../worker-agent/aggregate/validity-bytes.ts';
import { ParquetFormatError } from '../../worker-agent/aggregate/readers/parquet/errors.ts';
import type { ObjectStore } from '../../worker-agent/storage/index.ts';
import { arrowRows, duckdb, duckdbRows, type Row } from '../support/datasets.ts';
import { closeTestStore, openTestStore, type TestS3 } from '../support/s3.ts';
import { CODEC, hostileParquet, page, PAGE } from '../support/hostile-parquet.ts';

const ROWS = 20_000;
/** Every type the reader decodes, each with NULLs where a column can hold them. */
const SQL = `SELECT
  CASE WHEN i % 11 = 0 THEN NULL ELSE i::INT END AS i32,
  CASE WHEN i % 13 = 0 THEN NULL WHEN i = 1 THEN 9223372036854775807
       WHEN i = 2 THEN -9223372036854775808 ELSE i * 1234567891 END::BIGINT AS i64,
  CASE WHEN i % 7 = 0 THEN NULL ELSE 'cat-' || (i % 37) END AS dict_text,
  CASE WHEN i % 5 = 0 THEN NULL ELSE 'row ' || i || ' ' || repeat('é', i % 40) END AS plain_text,
  CASE WHEN i % 17 = 0 THEN NULL ELSE i / 7.0 END::DOUBLE AS f64,
  (i / 3.0)::FLOAT AS f32,
  CASE WHEN i % 19 = 0 THEN NULL ELSE i % 3 = 0 END AS flag,
  DATE '2020-01-01' + (i % 400)::INT AS day,
  TIMESTAMP '2020-01-01' + INTERVAL (i) SECOND AS ts,
  (i % 100 - 50)::TINYINT AS i8,
  (i % 200)::UTINYINT AS u8,
  (i % 30000 - 15000)::SMALLINT AS i16,
  (i * 100000)::UINTEGER AS u32,
  CASE WHEN i % 29 = 0 THEN NULL ELSE ((i % 2000) - 1000) / 100 END::DECIMAL(9,2) AS dec32,
  (((i * 7919) % 1000000000000) - 500000000000)::DECIMAL(18,3) / 1000 AS dec64
FROM range(${ROWS}) t(i)`;

/** The header of an LZ4 block that is `length` literal bytes (which follow it), and nothing else. */
function lz4Literals(length: number): Buffer {
  const extra = length - 15;
  return Buffer.from([0xf0, ...Array<number>(Math.floor(extra / 255)).fill(255), extra % 255]);
}

/** Files of apache/parquet-testing (see the README beside them): LZ4 in each framing, gzip members. */
const FIXTURES = new URL('../fixtures/parquet-testing/', import.meta.url);
const PUBLIC_FILES = [
  'hadoop_lz4_compressed',
  'non_hadoop_lz4_compressed',
  'lz4_raw_compressed',
  'concatenated_gzip_members',
];

/** The columns DuckDB's V2 files encode in ways the reader decodes (dictionary and booleans). */
const V2_COLUMNS = ['dict_text', 'flag'];

let s3: TestS3;
let store: ObjectStore;
let dir: string;
const files = new Map<string, string>();

async function duckFile(name: string, options: string): Promise<void> {
  const path = join(dir, `${name}.parquet`);
  await (
    await duckdb()
  ).run(`COPY (${SQL}) TO '${path}' (FORMAT parquet, ROW_GROUP_SIZE 6000${options})`);
  files.set(name, path);
}

/** The DuckDB file rewritten by arrow-rs with `configure`d writer properties. */
async function arrowRsFile(
  name: string,
  configure: (builder: WriterPropertiesBuilder) => WriterPropertiesBuilder,
): Promise<void> {
  const table = readParquet(await readFile(files.get('snappy')!));
  const path = join(dir, `${name}.parquet`);
  const properties = configure(new WriterPropertiesBuilder().setMaxRowGroupSize(7000)).build();
  await writeFile(path, writeParquet(WasmTable.fromIPCStream(table.intoIPCStream()), properties));
  files.set(name, path);
}

beforeAll(async () => {
  ({ s3, store } = await openTestStore());
  dir = await mkdtemp(join(tmpdir(), 'tm-parquet-js-'));
  await duckFile('snappy', '');
  await duckFile('gzip', ', COMPRESSION gzip');
  await duckFile('uncompressed', ', COMPRESSION uncompressed');
  await duckFile('zstd', ', COMPRESSION zstd');
  await duckFile('brotli', ', COMPRESSION brotli');
  await duckFile('lz4_raw', ', COMPRESSION lz4_raw');
  await duckFile('v2', ', PARQUET_VERSION V2');
  const nested = join(dir, 'nested.parquet');
  await (
    await duckdb()
  ).run(
    `COPY (SELECT i::INT AS i32, [i, i + 1] AS pair FROM range(100) t(i)) TO '${nested}' (FORMAT parquet)`,
  );
  files.set('nested', nested);
  // Dictionaries that overflow a tiny page limit fall back to PLAIN pages mid-chunk; small data pages.
  await arrowRsFile('arrow-rs-fallback', (b) =>
    b
      .setCompression(Compression.SNAPPY)
      .setDictionaryPageSizeLimit(1024)
      .setDataPageSizeLimit(4096),
  );
  await arrowRsFile('arrow-rs-v2', (b) =>
    b.setCompression(Compression.SNAPPY).setWriterVersion(WriterVersion.V2),
  );
  await arrowRsFile('arrow-rs-plain', (b) =>
    b.setCompression(Compression.UNCOMPRESSED).setDictionaryEnabled(false),
  );
  for (const name of PUBLIC_FILES)
    files.set(name, fileURLToPath(new URL(`${name}.parquet`, FIXTURES)));
  for (const [name, path] of files) await store.put(`js/${name}.parquet`, await readFile(path));
}, 120_000);
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  await closeTestStore({ s3, store });
});

async function read(name: string, columns?: string[], batchRows = 4096): Promise<RecordBatch[]> {
  const batches: RecordBatch[] = [];
  for await (const batch of readSplit(store, { key: `js/${name}.parquet`, size: 0 }, 'parquet', {
    tempDir: s3.tempDir,
    batchRows,
    ...(columns ? { columns } : {}),
  })) {
    batches.push(batch);
  }
  return batches;
}

async function expected(name: string, columns?: string[]) {
  return duckdbRows(`SELECT ${columns?.join(', ') ?? '*'} FROM read_parquet('${files.get(name)}')`);
}

/** Why the reader leaves `columns` (all when absent) of the file to parquet-wasm, or null. */
async function leftToWasm(name: string, columns?: string[]): Promise<string | null> {
  const bytes = await readFile(files.get(name)!);
  const length = bytes.readInt32LE(bytes.length - 8);
  const meta = parseMetadata(bytes.subarray(bytes.length - 8 - length, bytes.length - 8));
  const leaves = meta.leaves.flatMap((leaf, i) =>
    !columns || columns.includes(leaf.name) ? [i] : [],
  );
  return unsupportedReason(meta, leaves, { start: 0, end: meta.groups.length });
}

describe('the JavaScript Parquet reader', { timeout: 120_000 }, () => {
  it('decodes every codec, with NULLs in every column, row for row as DuckDB', async () => {
    for (const name of ['snappy', 'gzip', 'uncompressed', 'zstd', 'brotli', 'lz4_raw']) {
      expect(await leftToWasm(name)).toBeNull();
      const batches = await read(name);
      expect(batches.every((batch) => batch.numRows <= 4096)).toBe(true);
      expect(arrowRows(batches)).toEqual(await expected(name));
    }
  });

  it('decodes LZ4 pages of each framing and a page of two gzip members as DuckDB', async () => {
    // Public files. DuckDB reads no LZ4 (Hadoop) file, but the three LZ4 ones hold the same rows;
    // in the Hadoop-framed one the footer lists BIT_PACKED, which sends it to parquet-wasm.
    const columns = ['c0', 'v11'];
    for (const name of ['lz4_raw_compressed', 'non_hadoop_lz4_compressed']) {
      expect(await leftToWasm(name, columns)).toBeNull();
      expect(arrowRows(await read(name, columns))).toEqual(
        await expected('lz4_raw_compressed', columns),
      );
    }
    expect(await leftToWasm('concatenated_gzip_members')).toBeNull();
    expect(arrowRows(await read('concatenated_gzip_members'))).toEqual(
      await expected('concatenated_gzip_members'),
    );
    // Hand-built: one page of 5,000 INT64 values as one raw block, and as three Hadoop frames.
    const values = Buffer.alloc(5000 * 8);
    for (let i = 0; i < 5000; i++) values.writeBigInt64LE(BigInt(i * i - 7), i * 8);
    const parts = [values.subarray(0, 8000), values.subarray(8000, 30000), values.subarray(30000)];
    const dataPage = (body: Uint8Array) =>
      page({ type: PAGE.DATA, size: values.length, body, values: 5000 });
    const frames = parts.map((part) => {
      const sizes = Buffer.alloc(8);
      sizes.writeUInt32BE(part.length, 0);
      sizes.writeUInt32BE(part.length + lz4Literals(part.length).length, 4);
      return Buffer.concat([sizes, lz4Literals(part.length), part]);
    });
    const raw = Buffer.concat([lz4Literals(values.length), values]);
    const file = (codec: number, body: Uint8Array) =>
      hostileParquet({ rows: 5000, codec, pages: [dataPage(body)] });
    await writeFile(join(dir, 'lz4-built.parquet'), file(CODEC.LZ4_RAW, raw));
    files.set('lz4-built', join(dir, 'lz4-built.parquet'));
    await store.put('js/lz4-built.parquet', file(CODEC.LZ4_RAW, raw));
    await store.put('js/hadoop-built.parquet', file(CODEC.LZ4, Buffer.concat(frames)));
    const duck = await expected('lz4-built');
    expect(duck).toHaveLength(5000);
    expect(arrowRows(await read('lz4-built'))).toEqual(duck);
    expect(arrowRows(await read('hadoop-built'))).toEqual(duck);
  });

  it('decodes arrow-rs files: dictionary pages falling back to PLAIN mid-chunk, v2 pages, no dictionary', async () => {
    expect(await leftToWasm('arrow-rs-fallback')).toBeNull();
    expect(await leftToWasm('arrow-rs-plain')).toBeNull();
    for (const name of ['arrow-rs-fallback', 'arrow-rs-v2', 'arrow-rs-plain']) {
      expect(arrowRows(await read(name))).toEqual(await expected(name));
    }
  });

  it('decodes v2 data pages it knows the encoding of, and leaves the other columns to parquet-wasm', async () => {
    expect(await leftToWasm('v2', V2_COLUMNS)).toBeNull();
    expect(arrowRows(await read('v2', V2_COLUMNS))).toEqual(await expected('v2', V2_COLUMNS));
    expect(await leftToWasm('v2')).toMatch(/encoding/);
    expect(arrowRows(await read('v2'))).toEqual(await expected('v2'));
  });

  it('leaves nested columns to parquet-wasm, which still reads them', async () => {
    expect(await leftToWasm('nested')).toMatch(/pair: a nested column/);
    expect(await leftToWasm('nested', ['i32'])).toBeNull();
    const rows = arrowRows(await read('nested', ['i32']));
    expect(rows).toEqual(await expected('nested', ['i32']));
  });

  it('decodes every row group into the same arrays when the caller reads each batch before the next', async () => {
    const columns = ['i32', 'i64', 'dict_text', 'plain_text', 'f64', 'flag', 'day'];
    for (const name of ['snappy', 'arrow-rs-fallback']) {
      const rows: Row[] = [];
      const buffers = new Set<ArrayBufferLike>();
      let nullsSeen = 0;
      for await (const batch of readSplit(
        store,
        { key: `js/${name}.parquet`, size: 0 },
        'parquet',
        {
          tempDir: s3.tempDir,
          batchRows: 4096,
          columns,
          reuseBuffers: true,
        },
      )) {
        rows.push(...arrowRows([batch]));
        const doubles = batch.getChild('f64')!.data[0]!;
        buffers.add(doubles.values.buffer);
        // NULL rows hold zeros, not the last row group's values, for kernels that read past validity.
        for (let i = 0; i < batch.numRows; i++) {
          if (doubles.getValid(i)) continue;
          nullsSeen++;
          expect(doubles.values[doubles.offset + i]).toBe(0);
        }
      }
      expect(rows).toEqual(await expected(name, columns));
      expect(nullsSeen).toBeGreaterThan(0);
      // Four or three row groups of doubles, all decoded into one buffer.
      expect(buffers.size).toBe(1);
    }
  });

  it("gives a row group whose column is all NULL zeros, not the last row group's values, when the caller reuses buffers", async () => {
    const path = join(dir, 'null-group.parquet');
    await (
      await duckdb()
    ).run(
      `COPY (SELECT CASE WHEN i >= 2048 THEN NULL ELSE i * 1.5 END::DOUBLE AS x,
         CASE WHEN i >= 2048 THEN NULL ELSE 'v' || (i % 5) END AS s FROM range(4096) t(i))
       TO '${path}' (FORMAT parquet, ROW_GROUP_SIZE 2048)`,
    );
    await store.put('js/null-group.parquet', await readFile(path));
    const batches: { nulls: number; x: number[]; s: number[] }[] = [];
    for await (const batch of readSplit(
      store,
      { key: 'js/null-group.parquet', size: 0 },
      'parquet',
      { tempDir: s3.tempDir, batchRows: 4096, columns: ['x', 's'], reuseBuffers: true },
    )) {
      const [x, s] = [batch.getChild('x')!.data[0]!, batch.getChild('s')!.data[0]!];
      batches.push({
        nulls: x.nullCount,
        x: [...(x.values as Float64Array).subarray(x.offset, x.offset + x.length)],
        s: [...(s.values as Int32Array).subarray(s.offset, s.offset + s.length)],
      });
    }
    expect(batches.map((b) => b.nulls)).toEqual([0, 2048]);
    expect(batches[0]!.x.some((v) => v !== 0)).toBe(true);
    expect(batches[1]!.x.every((v) => v === 0)).toBe(true);
    expect(batches[1]!.s.every((v) => v === 0)).toBe(true);
  });

  it("leaves a whole-chunk dictionary page's values in its column's own kernel lane when the caller reuses buffers", async () => {
    // DuckDB writes one data page a row group's column.
    const columns = ['i32', 'dict_text', 'day', 'f64'];
    const lanes = columns.map((_, lane) => kernel('dictionary-page.wasm', lane)!.memory);
    const laneOf = (buffer: ArrayBufferLike) =>
      lanes.findIndex((memory) => memory.buffer === buffer);
    const rows: Row[] = [];
    const seen = { dict_text: new Set<number>(), day: new Set<number>() };
    for await (const batch of readSplit(store, { key: 'js/snappy.parquet', size: 0 }, 'parquet', {
      tempDir: s3.tempDir,
      batchRows: 4096,
      columns,
      reuseBuffers: true,
    })) {
      rows.push(...arrowRows([batch]));
      for (const name of ['dict_text', 'day'] as const)
        seen[name].add(laneOf(batch.getChild(name)!.data[0]!.values.buffer));
    }
    expect(rows).toEqual(await expected('snappy', columns));
    // dict_text is dictionary-encoded in every row group: always in its lane. day is too but for
    // the last, short row group, whose PLAIN page is copied into the column's arrays (-1).
    expect(seen.dict_text.size).toBe(1);
    const [text] = seen.dict_text;
    const dayLanes = [...seen.day].filter((lane) => lane >= 0);
    expect(text).toBeGreaterThanOrEqual(0);
    expect(dayLanes).toHaveLength(1);
    expect(dayLanes[0]).not.toBe(text);
  });

  it('keeps the validity bytes of each batch beside its bitmap, equal to it, for the kernels', async () => {
    let checked = 0;
    // 1,001-row batches: slices start and end off byte boundaries of the bitmap.
    for (const batch of await read('snappy', undefined, 1001)) {
      for (const child of batch.data.children) {
        const bytes = attachedValidityBytes(child);
        if (child.nullCount === 0) {
          expect(bytes).toBeUndefined();
          continue;
        }
        expect(bytes).toBeDefined();
        const fromBitmap = Array.from({ length: child.length }, (_, i) =>
          child.getValid(i) ? 1 : 0,
        );
        expect([...bytes!]).toEqual(fromBitmap);
        checked++;
      }
    }
    // Several batches per row group, so slices that start mid-group are among them.
    expect(checked).toBeGreaterThan(10);
  });

  it('reads without a temp file; the parquet-wasm fallback removes its own when stopped early', async () => {
    for await (const batch of readSplit(store, { key: 'js/snappy.parquet', size: 0 }, 'parquet', {
      tempDir: s3.tempDir,
    })) {
      expect(batch.numRows).toBeGreaterThan(0);
      expect(await readdir(s3.tempDir)).toEqual([]);
      break;
    }
    for await (const batch of readSplit(store, { key: 'js/v2.parquet', size: 0 }, 'parquet', {
      tempDir: s3.tempDir,
    })) {
      expect(batch.numRows).toBeGreaterThan(0);
      expect(await readdir(s3.tempDir)).toHaveLength(1);
      break;
    }
    expect(await readdir(s3.tempDir)).toEqual([]);
  });

  it('reads only the projected columns from the store', async () => {
    let all = 0;
    let one = 0;
    for await (const _ of readSplit(store, { key: 'js/snappy.parquet', size: 0 }, 'parquet', {
      tempDir: s3.tempDir,
      onProgress: (p) => (all = p.bytesRead),
    }));
    for await (const _ of readSplit(store, { key: 'js/snappy.parquet', size: 0 }, 'parquet', {
      tempDir: s3.tempDir,
      columns: ['flag'],
      onProgress: (p) => (one = p.bytesRead),
    }));
    expect(one).toBeGreaterThan(0);
    expect(one).toBeLessThan(all / 4);
  });

  it('fails a corrupt dictionary index or page clearly, naming the row group', async () => {
    const bytes = new Uint8Array(await readFile(files.get('uncompressed')!));
    // Overwrite the middle of the file (pages of every column) with a byte pattern.
    const broken = Uint8Array.from(bytes);
    const footer = new DataView(bytes.buffer).getInt32(bytes.length - 8, true);
    for (let i = 4; i < bytes.length - 8 - footer; i += 97) broken[i] = 0xff;
    await store.put('js/broken.parquet', broken);
    const error = await read('broken').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReaderError);
    expect((error as ReaderError).code).toBe('format');
    expect((error as Error).message).toMatch(/row group \d+ is corrupt/);
  });
});

/**
 * An uncompressed column chunk of 4 INT32 rows: a dictionary page of [10, 20, 30], then a data
 * page of bit width 2 and an RLE run of four 1s. Page headers are Thrift compact structs.
 */
// prettier-ignore
const DICTIONARY_CHUNK = Uint8Array.from([
  // type 2 (dictionary), sizes 12 and 12, field 7 {values: 3, encoding: 0 (PLAIN)}
  0x15, 4, 0x15, 24, 0x15, 24, 0x4c, 0x15, 6, 0x15, 0, 0, 0,
  ...new Uint8Array(Int32Array.of(10, 20, 30).buffer),
  // type 0 (data), sizes 3 and 3, field 5 {values: 4, encoding: 8 (RLE_DICTIONARY), levels: 3, 3}
  0x15, 0, 0x15, 6, 0x15, 6, 0x2c, 0x15, 8, 0x15, 16, 0x15, 6, 0x15, 6, 0, 0,
  2, 4 << 1, 1,
]);

describe('Snappy and RLE/bit-packed decoding', () => {
  it('decompresses literals and overlapping copies', () => {
    // Length 10; literal "ab"; copy of 8 bytes from offset 2 (overlapping: a run of "ab").
    const block = Uint8Array.from([10, (2 - 1) << 2, 0x61, 0x62, ((8 - 4) << 2) | 1, 2]);
    expect(new TextDecoder().decode(snappyDecompress(block, 10))).toBe('ababababab');
    expect(() => snappyDecompress(block, 11)).toThrow(ParquetFormatError);
    // A copy reaching before the start of the output.
    expect(() => snappyDecompress(Uint8Array.from([4, ((4 - 4) << 2) | 1, 9]), 4)).toThrow(
      /before the start/,
    );
  });

  it('decompresses every element kind and size as a byte-at-a-time decoder does, into a reused buffer', () => {
    // Random blocks of every element: short and long literals, copies of 1-64 bytes from offsets
    // 1 to 3000 (overlapping or not), in all three copy encodings, and elements at the very end.
    let seed = 7;
    const random = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n) + 0;
    const into = new Uint8Array(1 << 16);
    for (let block = 0; block < 200; block++) {
      const expected: number[] = [];
      const elements: number[] = [];
      while (expected.length < 2000 + random(2000)) {
        const size = [1, 2, 3, 4, 5, 7, 8, 9, 12, 33, 70][random(11)]!;
        if (expected.length < 8 || random(3) === 0) {
          const bytes = Array.from({ length: size }, () => random(256));
          elements.push(...(size <= 60 ? [(size - 1) << 2] : [60 << 2, size - 1]), ...bytes);
          expected.push(...bytes);
          continue;
        }
        const offset = 1 + random(Math.min(expected.length, random(2) ? 16 : 3000));
        const copy = Math.min(size, 64);
        if (copy >= 4 && copy <= 11 && offset < 2048 && random(2))
          elements.push(((offset >> 8) << 5) | ((copy - 4) << 2) | 1, offset & 255);
        else if (random(2)) elements.push(((copy - 1) << 2) | 2, offset & 255, offset >> 8);
        else elements.push(((copy - 1) << 2) | 3, offset & 255, offset >> 8, 0, 0);
        for (let i = 0; i < copy; i++) expected.push(expected[expected.length - offset]!);
      }
      const header: number[] = [];
      for (let n = expected.length; ; n >>>= 7) {
        if (n < 128) {
          header.push(n);
          break;
        }
        header.push((n & 127) | 128);
      }
      into.fill(0xee);
      const input = Uint8Array.from([...header, ...elements]);
      expect([...snappyDecompress(input, expected.length, into)]).toEqual(expected);
      // The WebAssembly decoder (snappy.c), which pages go through, decodes it the same.
      expect([...(wasmSnappy(input, expected.length) ?? [])]).toEqual(expected);
    }
  });

  it('says what is wrong with a corrupt Snappy page, though WebAssembly decodes the good ones', () => {
    const block = Uint8Array.from([10, (2 - 1) << 2, 0x61, 0x62, ((8 - 4) << 2) | 1, 2]);
    expect(new TextDecoder().decode(decompress(Codec.SNAPPY, block, 10))).toBe('ababababab');
    expect(wasmSnappy(block, 11)).toBeNull();
    expect(() => decompress(Codec.SNAPPY, block, 11)).toThrow(/holds 10 bytes, the page says 11/);
    const early = Uint8Array.from([4, ((4 - 4) << 2) | 1, 9]);
    expect(wasmSnappy(early, 4)).toBeNull();
    expect(() => decompress(Codec.SNAPPY, early, 4)).toThrow(/before the start/);
    const short = Uint8Array.from([20, (30 - 1) << 2, 0x61]);
    expect(wasmSnappy(short, 20)).toBeNull();
    expect(() => decompress(Codec.SNAPPY, short, 20)).toThrow(ParquetFormatError);
    // A length header of 2^32 + 2: not 2 bytes, though the 32 bits the decoder keeps say so.
    const huge = Uint8Array.from([0x82, 0x80, 0x80, 0x80, 0x10, (2 - 1) << 2, 0x61, 0x62]);
    expect(wasmSnappy(huge, 2)).toBeNull();
    expect(() => decompress(Codec.SNAPPY, huge, 2)).toThrow(/the page says 2/);
  });

  it('decodes Snappy and dictionary pages without WebAssembly too (node --jitless has none)', () => {
    const module = (file: string) =>
      JSON.stringify(
        new URL(`../../worker-agent/aggregate/readers/parquet/${file}`, import.meta.url).href,
      );
    // A dictionary page of 3 entries, then 4 rows: bit width 2, an RLE run of four 1s.
    const script = `import { decompress } from ${module('codecs.ts')};
      import { decodeChunk } from ${module('pages.ts')};
      import { FixedValues } from ${module('column-values.ts')};
      const block = Uint8Array.from([10, 4, 0x61, 0x62, 17, 2]);
      const values = new FixedValues(4, 4);
      const pages = Uint8Array.from(${JSON.stringify([...DICTIONARY_CHUNK])});
      decodeChunk({ bytes: pages, codec: 0, optional: false, rows: 4, arrays: undefined }, values);
      console.log(typeof WebAssembly, new TextDecoder().decode(decompress(1, block, 10)),
        values.wasmIndices(Uint8Array.of(2, 8, 1), { row: 0, count: 4, valid: null, values: 4 }),
        [...values.words].join());`;
    const run = (flags: string[]) =>
      execFileSync(
        process.execPath,
        [...flags, '--no-warnings', '--import', 'tsx/esm', '--input-type=module', '-e', script],
        { encoding: 'utf8' },
      ).trim();
    expect(run(['--jitless'])).toBe('undefined ababababab false 20,20,20,20');
    expect(run([])).toBe('object ababababab true 20,20,20,20');
  });

  it('reads RLE runs and bit-packed groups at narrow, middle and wide bit widths', () => {
    for (const bitWidth of [1, 3, 17, 24, 30]) {
      const values = Array.from({ length: 16 }, (_, i) => (i * 2654435761) % 2 ** bitWidth);
      // A bit-packed run of two groups of 8, then an RLE run of 5 copies of the last value.
      const packed = new Uint8Array(2 * bitWidth + 1 + 1 + Math.ceil(bitWidth / 8));
      packed[0] = (2 << 1) | 1;
      values.forEach((value, i) => {
        for (let b = 0; b < bitWidth; b++) {
          const bit = i * bitWidth + b;
          if (Math.floor(value / 2 ** b) % 2) packed[1 + (bit >> 3)]! |= 1 << (bit & 7);
        }
      });
      packed[1 + 2 * bitWidth] = 5 << 1;
      for (let b = 0; b < Math.ceil(bitWidth / 8); b++) {
        packed[2 + 2 * bitWidth + b] = Math.floor(values[15]! / 2 ** (8 * b)) % 256;
      }
      const out = new Int32Array(21);
      new HybridReader(packed, 0, packed.length).read(bitWidth, 21, out);
      expect([...out]).toEqual([...values, ...Array(5).fill(values[15])]);
      expect(() =>
        new HybridReader(packed, 0, packed.length).read(bitWidth, 22, new Int32Array(22)),
      ).toThrow(ParquetFormatError);
    }
  });

  it('counts the definition levels that are 1, and rejects a run value wider than its bits', () => {
    // RLE: 5 ones; bit-packed: one group of 8 (0b10110101: 5 ones), of which 6 are taken
    // (4 ones); RLE: 3 zeros.
    const levels = Uint8Array.from([5 << 1, 1, (1 << 1) | 1, 0b10110101, 3 << 1, 0]);
    const out = new Uint8Array(14);
    expect(new HybridReader(levels, 0, 4).readBits(11, out)).toBe(5 + 4);
    expect([...out.subarray(0, 11)]).toEqual(
      [1, 1, 1, 1, 1, 1, 0, 1, 0, 1, 1, 0, 0, 0].slice(0, 11),
    );
    expect(new HybridReader(levels, 0, levels.length).readBits(14, out)).toBe(5 + 5);
    expect(() => new HybridReader(Uint8Array.from([4 << 1, 2]), 0, 2).readBits(4, out)).toThrow(
      /past 1 bits/,
    );
  });

  it('unpacks long bit-packed runs at every width up to 32, to the last byte of the array', () => {
    for (let bitWidth = 1; bitWidth <= 32; bitWidth++) {
      const count = 8 * 37;
      const values = Array.from(
        { length: count },
        (_, i) => (i * 2654435761 + 12345) % 2 ** bitWidth,
      );
      // Two bytes before the run, so it starts unaligned; the run's last group ends the array.
      const packed = new Uint8Array(3 + (count * bitWidth) / 8);
      packed[2] = ((count / 8) << 1) | 1;
      values.forEach((value, i) => {
        for (let b = 0; b < bitWidth; b++) {
          const bit = i * bitWidth + b;
          if (Math.floor(value / 2 ** b) % 2) packed[3 + (bit >> 3)]! |= 1 << (bit & 7);
        }
      });
      const out = new Int32Array(count + 1);
      new HybridReader(packed, 2, packed.length).read(bitWidth, count, out, 1);
      expect([...out.subarray(1)].map((v) => v >>> 0)).toEqual(values);
    }
  });
});
