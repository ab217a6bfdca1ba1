/**
 * Hostile Parquet files, built by hand: a footer that declares 2^27 rows over a page of one value,
 * gzip, Brotli, zstd and LZ4 pages that inflate far past their header, Snappy blocks that claim
 * gigabytes. Each is refused with the reader's error naming the column and what is wrong, having
 * allocated a small fraction of what it declares; and a thread's grown scratch is given back after
 * its task.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  readSplit,
  ReaderError,
  releaseReaderScratch,
} from '../../worker-agent/aggregate/readers/index.ts';
import { codecSupported, decompress } from '../../worker-agent/aggregate/readers/parquet/codecs.ts';
import { Codec } from '../../worker-agent/aggregate/readers/parquet/format.ts';
import {
  kernel,
  type KernelExports,
} from '../../worker-agent/aggregate/readers/parquet/wasm-kernel.ts';
import type { ObjectStore } from '../../worker-agent/storage/index.ts';
import {
  CsvTokenizer,
  MAX_RECORD_CHARS,
} from '../../worker-agent/aggregate/readers/csv-tokenizer.ts';
import { zstdBound } from '../../worker-agent/aggregate/readers/parquet/zstd-frames.ts';
import {
  brotliBomb,
  CODEC,
  gzipBomb,
  hostileParquet,
  lz4Bomb,
  page,
  PAGE,
  snappyClaiming,
  zstdBomb,
} from '../support/hostile-parquet.ts';

const MiB = 1024 * 1024;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tm-hostile-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** An in-memory store holding `bytes` under `key`. */
function memoryStore(key: string, bytes: Uint8Array): ObjectStore {
  const check = (k: string) => {
    if (k !== key) throw new Error(`no object ${k}`);
  };
  return {
    bucket: 'mem',
    endpoint: undefined,
    get: async (k, range) => {
      check(k);
      return bytes.slice(range?.start ?? 0, Math.min(bytes.length, range?.end ?? bytes.length));
    },
    async *getStream(k) {
      check(k);
      yield bytes;
    },
    download: async (k, file) => {
      check(k);
      await writeFile(file, bytes);
      return bytes.length;
    },
    head: async (k) => {
      check(k);
      return { size: bytes.length };
    },
    put: async () => undefined,
    list: async function* () {},
    delete: async () => undefined,
    close: () => undefined,
  };
}

/** Reads `bytes` as Parquet to the end; the error it fails with, and the external memory it grew by. */
async function readHostile(bytes: Uint8Array): Promise<{ error: ReaderError; grewBy: number }> {
  const before = process.memoryUsage().arrayBuffers;
  let error: unknown = null;
  try {
    const batches = readSplit(
      memoryStore('hostile.parquet', bytes),
      { key: 'hostile.parquet', size: bytes.length },
      'parquet',
      {
        tempDir: dir,
        reuseBuffers: true,
        columns: ['x'],
      },
    );
    for await (const batch of batches) void batch;
  } catch (caught) {
    error = caught;
  }
  // Measured before anything is collected: whatever the read allocated is still counted.
  const grewBy = process.memoryUsage().arrayBuffers - before;
  expect(error).toBeInstanceOf(ReaderError);
  return { error: error as ReaderError, grewBy };
}

const int64 = (n: number) => {
  const bytes = Buffer.alloc(8);
  bytes.writeBigInt64LE(BigInt(n));
  return bytes;
};

describe('hostile Parquet files', { timeout: 60_000 }, () => {
  it('refuses a footer that declares 2^27 rows over a page of one value, before allocating them', async () => {
    const rows = 2 ** 27;
    const file = hostileParquet({
      rows,
      codec: CODEC.UNCOMPRESSED,
      pages: [page({ type: PAGE.DATA, size: 8, body: int64(7), values: 1 })],
    });
    expect(file.length).toBeLessThan(200);
    const { error, grewBy } = await readHostile(file);
    expect(error.code).toBe('format');
    expect(error.message).toContain(
      `column x: its pages hold 1 values for the row group's ${rows} rows`,
    );
    // The file declares 1 GiB of INT64 values; the reader took a small fraction of that.
    expect(grewBy).toBeLessThan(64 * MiB);
  });

  it("refuses a row group whose pages do declare 2^27 rows, past the reader's decoded limit", async () => {
    const rows = 2 ** 27;
    const file = hostileParquet({
      rows,
      codec: CODEC.UNCOMPRESSED,
      pages: [
        page({ type: PAGE.DICTIONARY, size: 8, body: int64(7), values: 1 }),
        // Bit width 0, then one RLE run of 2^27 zeros: five bytes for a billion bytes of values.
        page({
          type: PAGE.DATA,
          size: 6,
          body: Uint8Array.from([0, 0x80, 0x80, 0x80, 0x80, 0x01]),
          values: rows,
          encoding: 8,
        }),
      ],
    });
    const { error, grewBy } = await readHostile(file);
    expect(error.message).toMatch(
      /its 134217728 rows of x would decode to \d+ MiB, over the reader's limit of 256 MiB/,
    );
    expect(grewBy).toBeLessThan(64 * MiB);
  });

  it('refuses a gzip page that inflates past its header, having inflated no more than that', async () => {
    const bomb = gzipBomb(256 * MiB);
    const file = hostileParquet({
      rows: 1,
      codec: CODEC.GZIP,
      pages: [page({ type: PAGE.DATA, size: 8, body: bomb, values: 1 })],
    });
    const { error, grewBy } = await readHostile(file);
    expect(error.message).toContain(
      'column x: a page decompresses to more than the 8 bytes its header says',
    );
    expect(grewBy).toBeLessThan(64 * MiB);
  });

  const tooLong = 'column x: a page decompresses to more than the 8 bytes its header says';
  it.each([
    ['a Brotli page inflating to 64 MiB', CODEC.BROTLI, brotliBomb(64 * MiB), tooLong],
    [
      'a zstd page of RLE blocks regenerating 1 GiB',
      CODEC.ZSTD,
      zstdBomb(1024 * MiB),
      'column x: corrupt zstd data, or more than the 8 bytes its page header says',
    ],
    ['an LZ4_RAW block of one 64 MiB match', CODEC.LZ4_RAW, lz4Bomb(64 * MiB), tooLong],
    ['an LZ4 block of one 64 MiB match', CODEC.LZ4, lz4Bomb(64 * MiB), tooLong],
  ])(
    'refuses %s, having decoded no more than its header says',
    async (_name, codec, body, says) => {
      expect(codecSupported(codec)).toBe(true);
      const file = hostileParquet({
        rows: 1,
        codec,
        pages: [page({ type: PAGE.DATA, size: 8, body, values: 1 })],
      });
      const { error, grewBy } = await readHostile(file);
      expect(error.message).toContain(says);
      expect(grewBy).toBeLessThan(16 * MiB);
    },
  );

  it("refuses a page header that declares more than the reader's page limit", async () => {
    const file = hostileParquet({
      rows: 1,
      codec: CODEC.GZIP,
      pages: [page({ type: PAGE.DATA, size: 2 ** 30, body: gzipBomb(2 * MiB), values: 1 })],
    });
    const { error } = await readHostile(file);
    expect(error.message).toContain(
      "column x: a page says it holds 1073741824 bytes uncompressed, over the reader's limit of 64 MiB",
    );
  });

  it('refuses a Snappy block that claims more than its bytes can hold, before making room for it', async () => {
    const claim = 60 * MiB;
    const file = hostileParquet({
      rows: 1,
      codec: CODEC.SNAPPY,
      pages: [page({ type: PAGE.DATA, size: claim, body: snappyClaiming(claim), values: 1 })],
    });
    const snappy = kernel<KernelExports>('snappy.wasm');
    const memoryBefore = snappy?.memory.buffer.byteLength ?? 0;
    const { error, grewBy } = await readHostile(file);
    expect(error.message).toContain(`cannot hold the ${claim} bytes they say they do`);
    expect(grewBy).toBeLessThan(16 * MiB);
    expect(snappy?.memory.buffer.byteLength ?? 0).toBe(memoryBefore);
    // And a block whose own header disagrees with its page's.
    expect(() => decompress(Codec.SNAPPY, snappyClaiming(2 ** 31 - 1), 8)).toThrow(
      'it says it holds 2147483647 bytes, the page says 8',
    );
  });
});

/** Listed in a file's footer, DELTA_BINARY_PACKED sends it to parquet-wasm. */
const TO_WASM = [0, 5];

describe('files left to parquet-wasm', { timeout: 60_000 }, () => {
  it.each([
    ['a Brotli page inflating to 64 MiB', CODEC.BROTLI, brotliBomb(64 * MiB)],
    ['a zstd page of RLE blocks regenerating 1 GiB', CODEC.ZSTD, zstdBomb(1024 * MiB)],
  ])('refuses %s before the decoder sees it', async (_name, codec, body) => {
    const file = hostileParquet({
      rows: 1,
      codec,
      pages: [page({ type: PAGE.DATA, size: 8, body, values: 1 })],
      encodings: TO_WASM,
    });
    const { error, grewBy } = await readHostile(file);
    // zstd pages are decoded into the header's 8 bytes (zstddec), which cannot tell this from corrupt data.
    expect(error.message).toMatch(
      /row group 0 is corrupt: column x: (a page decompresses to|corrupt zstd data, or) more than the 8 bytes its (page )?header says/,
    );
    expect(grewBy).toBeLessThan(16 * MiB);
  });

  it('refuses a footer declaring 2^27 rows over one value there too', async () => {
    const file = hostileParquet({
      rows: 2 ** 27,
      codec: CODEC.BROTLI,
      pages: [page({ type: PAGE.DATA, size: 8, body: brotliBomb(8), values: 1 })],
      encodings: TO_WASM,
    });
    const { error } = await readHostile(file);
    expect(error.message).toContain('row group 0 is corrupt');
    expect(error.message).toContain(
      "column x: its pages hold 1 values for the row group's 134217728 rows",
    );
  });

  it('bounds a zstd page by its frames: declared content size, else its blocks', () => {
    expect(zstdBound(zstdBomb(1024 * MiB))).toBe(1024 * MiB);
    const framed = zstdBomb(64 * 1024);
    // The same frame, declaring 65,536 bytes of content (a 4-byte Frame_Content_Size).
    const declared = Buffer.concat([
      framed.subarray(0, 4),
      Buffer.from([0x80]),
      framed.subarray(5, 6),
      Buffer.from([0, 0, 1, 0]),
      framed.subarray(6),
    ]);
    expect(zstdBound(declared)).toBe(65_536);
  });
});

describe('hostile CSV files', { timeout: 60_000 }, () => {
  /** Reads `text` as CSV to the end; the error it fails with, if any, and the rows it yielded. */
  async function readCsvText(text: string) {
    const bytes = Buffer.from(text);
    const batches = readSplit(
      memoryStore('hostile.csv', bytes),
      { key: 'hostile.csv', size: bytes.length },
      'csv',
      {
        tempDir: dir,
      },
    );
    let rows = 0;
    try {
      for await (const batch of batches) rows += batch.numRows;
    } catch (error) {
      return { error: error as ReaderError, rows };
    }
    return { error: null, rows };
  }

  it("refuses a line longer than DuckDB's max_line_size, naming its line", async () => {
    const { error } = await readCsvText(`a,b\n1,2\n3,${'x'.repeat(MAX_RECORD_CHARS + 10)}\n`);
    expect(error).toBeInstanceOf(ReaderError);
    expect(error!.message).toContain(
      `line 3: a record longer than ${MAX_RECORD_CHARS} characters (DuckDB's max_line_size)`,
    );
    // Quoted and across chunks alike.
    const tokenizer = new CsvTokenizer();
    expect(() => {
      tokenizer.push('a\n"');
      for (let i = 0; i < 3; i++) tokenizer.push('y'.repeat(MAX_RECORD_CHARS / 2));
    }).toThrow(`line 2: a record longer than ${MAX_RECORD_CHARS} characters`);
  });

  it('still reads a line just under the limit, and many long lines in batches', async () => {
    const long = 'z'.repeat(MAX_RECORD_CHARS - 10);
    const lines = Array.from({ length: 40 }, (_, i) => `${i},${long}`).join('\n');
    const { error, rows } = await readCsvText(`n,s\n${lines}\n`);
    expect(error).toBeNull();
    expect(rows).toBe(40);
  });
});

describe('scratch after a task', { timeout: 60_000 }, () => {
  it('gives back a WebAssembly instance whose memory one large page grew', () => {
    // A 20 MiB Snappy block of literals: legitimate, and it grows the instance's memory past 40 MiB.
    const size = 20 * MiB;
    const header: number[] = [];
    for (let v = size; ; v = Math.floor(v / 128)) {
      if (v < 128) {
        header.push(v);
        break;
      }
      header.push((v % 128) | 0x80);
    }
    const parts: Buffer[] = [Buffer.from(header)];
    const literal = Buffer.alloc(65_536, 0x5a);
    for (let left = size; left > 0; left -= literal.length) {
      const length = Math.min(left, literal.length);
      parts.push(
        Buffer.from([61 << 2, (length - 1) & 0xff, (length - 1) >> 8]),
        literal.subarray(0, length),
      );
    }
    const output = decompress(Codec.SNAPPY, Buffer.concat(parts), size);
    expect(output.length).toBe(size);
    const grown = kernel<KernelExports>('snappy.wasm');
    if (!grown) return expect.unreachable('this Node has WebAssembly');
    expect(grown.memory.buffer.byteLength).toBeGreaterThan(2 * size);
    releaseReaderScratch();
    const fresh = kernel<KernelExports>('snappy.wasm')!;
    expect(fresh).not.toBe(grown);
    expect(fresh.memory.buffer.byteLength).toBeLessThan(MiB);
    // The fresh instance decodes as the old one did.
    expect(decompress(Codec.SNAPPY, Buffer.concat(parts), size).every((b) => b === 0x5a)).toBe(
      true,
    );
  });

  it('keeps at most 64 MiB of WebAssembly memory over all its lanes, each under 16 MiB', () => {
    releaseReaderScratch();
    // Ten lanes of a wide read, each grown to 12 MiB (under the one-instance bound).
    const lanes = Array.from({ length: 10 }, (_, lane) => {
      const instance = kernel<KernelExports>('dictionary-page.wasm', lane);
      if (!instance) throw new Error('this Node has WebAssembly');
      const pages = (12 * MiB - instance.memory.buffer.byteLength) / 65_536;
      instance.memory.grow(Math.ceil(pages));
      return instance;
    });
    releaseReaderScratch();
    const kept = lanes.filter(
      (instance, lane) => kernel<KernelExports>('dictionary-page.wasm', lane) === instance,
    );
    expect(kept.length).toBeGreaterThan(0);
    expect(kept.length).toBeLessThan(lanes.length);
    const held = kept.reduce((sum, instance) => sum + instance.memory.buffer.byteLength, 0);
    expect(held).toBeLessThanOrEqual(64 * MiB);
    expect(held + 12 * MiB).toBeGreaterThan(64 * MiB);
    releaseReaderScratch();
  });
});
