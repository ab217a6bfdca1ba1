/**
 * The page codecs of the JavaScript Parquet reader (codecs.ts): every page DuckDB writes in each
 * codec decompresses to the bytes of the same page written uncompressed; LZ4 in Hadoop frames
 * (one or several a page) and as a bare block under the same codec; truncated and corrupt pages
 * and pages of the wrong size are refused with a ParquetFormatError that says so; a page that
 * inflates past its header is refused having written no more than the header's size.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ParquetFormatError } from '../../worker-agent/aggregate/readers/parquet/errors.ts';
import { decompress, PageBuffer } from '../../worker-agent/aggregate/readers/parquet/codecs.ts';
import { Codec } from '../../worker-agent/aggregate/readers/parquet/format.ts';
import { parseMetadata } from '../../worker-agent/aggregate/readers/parquet/metadata.ts';
import { scanChunk } from '../../worker-agent/aggregate/readers/parquet/pages.ts';
import { zstdPath } from '../../worker-agent/aggregate/readers/parquet/zstd.ts';
import { ZSTDDecoder } from 'zstddec';
import { brotliBomb, gzipBomb, lz4Bomb, zstdBomb } from '../support/hostile-parquet.ts';
import { duckdb } from '../support/datasets.ts';

const MiB = 1024 * 1024;
const FIXTURES = new URL('../fixtures/parquet-testing/', import.meta.url);

interface Page {
  codec: number;
  body: Uint8Array;
  size: number;
}

/** Every dictionary and data page of a Parquet file, in file order. */
function pagesOf(bytes: Uint8Array): Page[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const length = view.getInt32(bytes.length - 8, true);
  const meta = parseMetadata(bytes.subarray(bytes.length - 8 - length, bytes.length - 8));
  const pages: Page[] = [];
  for (const group of meta.groups) {
    for (const chunk of group.chunks) {
      scanChunk(bytes.subarray(chunk.start, chunk.start + chunk.length), chunk.codec, group.rows, {
        check: (codec, body, size) => void pages.push({ codec, body, size }),
      });
    }
  }
  return pages;
}

/** DuckDB's names for the codecs, and the codec its pages then carry ('lz4' is LZ4_RAW). */
const DUCKDB_CODECS = [
  ['snappy', Codec.SNAPPY],
  ['gzip', Codec.GZIP],
  ['brotli', Codec.BROTLI],
  ['zstd', Codec.ZSTD],
  ['lz4', Codec.LZ4_RAW],
  ['lz4_raw', Codec.LZ4_RAW],
] as const;

const SQL = `SELECT i::BIGINT AS id, (i * 7919 % 100000)::BIGINT AS price,
  'product-' || (hash(i) % 500) AS product, 'row ' || i || repeat('x', i % 50) AS text
  FROM range(60000) t(i)`;

let dir: string;
const pages = new Map<string, Page[]>();

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tm-codecs-'));
  const db = await duckdb();
  for (const name of ['uncompressed', ...DUCKDB_CODECS.map(([name]) => name)]) {
    const path = join(dir, `${name}.parquet`);
    await db.run(
      `COPY (${SQL}) TO '${path}' (FORMAT parquet, COMPRESSION ${name}, ROW_GROUP_SIZE 20000)`,
    );
    pages.set(name, pagesOf(new Uint8Array(await readFile(path))));
  }
}, 60_000);
afterAll(() => rm(dir, { recursive: true, force: true }));

const fixturePages = async (name: string) =>
  pagesOf(new Uint8Array(await readFile(new URL(`${name}.parquet`, FIXTURES))));

/** `page` decompressed (a copy: LZ4's and Snappy's output is reused by the next page). */
const decoded = (page: Page, buffer?: PageBuffer) =>
  Uint8Array.from(decompress(page.codec, page.body, page.size, buffer));

/** Hadoop's framing of `blocks`: each its uncompressed and compressed sizes, big endian, then it. */
function hadoopFrames(blocks: readonly Page[]): Uint8Array {
  return Buffer.concat(
    blocks.flatMap(({ body, size }) => {
      const sizes = Buffer.alloc(8);
      sizes.writeUInt32BE(size, 0);
      sizes.writeUInt32BE(body.length, 4);
      return [sizes, body];
    }),
  );
}

/** Expects `run` to throw a ParquetFormatError whose message matches `message`. */
function expectRefusal(run: () => unknown, message: RegExp): void {
  let thrown: unknown;
  try {
    run();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(ParquetFormatError);
  expect((thrown as Error).message).toMatch(message);
}

describe('page codecs', { timeout: 60_000 }, () => {
  it('decompresses each codec to the bytes of the same page written uncompressed', () => {
    const plain = pages.get('uncompressed')!;
    expect(plain.length).toBeGreaterThan(10);
    const buffer = new PageBuffer();
    for (const [name, codec] of DUCKDB_CODECS) {
      const compressed = pages.get(name)!;
      expect(compressed.map((page) => page.size)).toEqual(plain.map((page) => page.size));
      compressed.forEach((page, i) => {
        expect(page.codec).toBe(codec);
        expect(Buffer.from(decoded(page, buffer)).equals(plain[i]!.body)).toBe(true);
      });
    }
  });

  it('decodes LZ4 blocks of every sequence shape as a byte-at-a-time decoder does', () => {
    // Random blocks: literal runs and matches of 0 to 300 bytes (length bytes past 15), offsets
    // from 1 (a run of one byte) to 3000, overlapping their output or not.
    let seed = 11;
    const random = (n: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
    const lengthBytes = (n: number) =>
      n < 15 ? [] : [...Array<number>(Math.floor((n - 15) / 255)).fill(255), (n - 15) % 255];
    const buffer = new PageBuffer();
    for (let block = 0; block < 200; block++) {
      const expected: number[] = [];
      const sequences: number[] = [];
      for (;;) {
        const literals = random(4) === 0 ? random(300) : random(20);
        const bytes = Array.from({ length: literals }, () => random(256));
        expected.push(...bytes);
        if (expected.length > 4000 + random(4000)) {
          // A block ends with a sequence of literals only.
          sequences.push(Math.min(literals, 15) << 4, ...lengthBytes(literals), ...bytes);
          break;
        }
        if (expected.length === 0) continue;
        const match = random(3) === 0 ? random(300) : random(20);
        const offset = 1 + random(Math.min(expected.length, random(2) ? 8 : 3000));
        const token = (Math.min(literals, 15) << 4) | Math.min(match, 15);
        sequences.push(token, ...lengthBytes(literals), ...bytes);
        sequences.push(offset & 255, offset >> 8, ...lengthBytes(match));
        for (let i = 0; i < match + 4; i++) expected.push(expected[expected.length - offset]!);
      }
      const body = Uint8Array.from(sequences);
      const page = { codec: Codec.LZ4_RAW, body, size: expected.length };
      expect([...decoded(page, buffer)]).toEqual(expected);
      // The same block as one Hadoop frame, and bare under the Hadoop codec.
      const framed = { codec: Codec.LZ4, body: hadoopFrames([page]), size: expected.length };
      expect([...decoded(framed)]).toEqual(expected);
      expect([...decoded({ ...page, codec: Codec.LZ4 })]).toEqual(expected);
    }
  });

  it('reads a page of several Hadoop frames, and the public LZ4 files of each framing', async () => {
    const blocks = pages.get('lz4_raw')!.slice(0, 4);
    const size = blocks.reduce((sum, page) => sum + page.size, 0);
    const page = { codec: Codec.LZ4, body: hadoopFrames(blocks), size };
    const expected = Buffer.concat(blocks.map((block) => decoded(block)));
    expect(Buffer.from(decoded(page)).equals(expected)).toBe(true);
    // Frames that add up to less than the page's size are not Hadoop's: read as one block, refused.
    expectRefusal(() => decoded({ ...page, size: size + 1 }), /corrupt LZ4 data/);

    const hadoop = await fixturePages('hadoop_lz4_compressed');
    const bare = await fixturePages('non_hadoop_lz4_compressed');
    const raw = await fixturePages('lz4_raw_compressed');
    expect(new Set(hadoop.map((p) => p.codec))).toEqual(new Set([Codec.LZ4]));
    expect(new Set(bare.map((p) => p.codec))).toEqual(new Set([Codec.LZ4]));
    expect(new Set(raw.map((p) => p.codec))).toEqual(new Set([Codec.LZ4_RAW]));
    for (const p of [...hadoop, ...bare, ...raw]) expect(decoded(p).length).toBe(p.size);
    const gzip = await fixturePages('concatenated_gzip_members');
    expect(gzip.map((p) => decoded(p).length)).toEqual(gzip.map((p) => p.size));
  });

  it("decodes ZSTD pages with zstddec's module into memory it reuses, as zstddec's decode does", async () => {
    expect(zstdPath).toBe('module');
    const reference = new ZSTDDecoder();
    await reference.init();
    // Largest first: the memory grows once, for the first page.
    const zstd = pages
      .get('zstd')!
      .filter((page) => page.size > 0)
      .sort((a, b) => b.size - a.size || b.body.length - a.body.length);
    expect(zstd.length).toBeGreaterThan(4);
    const buffers = new Set<ArrayBufferLike>();
    for (const page of zstd) {
      const output = decompress(page.codec, page.body, page.size);
      buffers.add(output.buffer);
      expect(Buffer.from(output).equals(reference.decode(page.body, page.size))).toBe(true);
    }
    // Every page a view of the one instance's memory, none a copy of its own.
    expect(buffers.size).toBe(1);
  });

  it('refuses truncated pages of each codec, saying so', () => {
    const messages: Record<string, RegExp> = {
      snappy: /corrupt Snappy data: literal past the end/,
      gzip: /does not decompress \(unexpected end of file\)/,
      brotli: /does not decompress \(unexpected end of file\)/,
      zstd: /corrupt zstd data/,
      lz4: /corrupt LZ4 data: a (literal run goes past the end of its block|block ends inside)/,
      lz4_raw: /corrupt LZ4 data/,
    };
    for (const [name] of DUCKDB_CODECS) {
      const page = pages.get(name)!.find((p) => p.body.length > 1000)!;
      const cut = { ...page, body: page.body.subarray(0, page.body.length - 100) };
      expectRefusal(() => decoded(cut), messages[name]!);
    }
  });

  it('refuses corrupt pages of each codec, and pages whose header says another size', () => {
    for (const [name] of DUCKDB_CODECS) {
      const page = pages.get(name)!.find((p) => p.body.length > 1000)!;
      const wrongSize = /holds \d+ bytes|more than the \d+ bytes/;
      expectRefusal(() => decoded({ ...page, size: page.size - 1 }), wrongSize);
      expectRefusal(() => decoded({ ...page, size: page.size + 1 }), wrongSize);
      if (name === 'snappy' || name.startsWith('lz4')) continue;
      // Without checksums (or their framing), Snappy and LZ4 take other bytes for other data.
      const broken = Uint8Array.from(page.body).fill(0xff, 20, 84);
      expectRefusal(
        () => decoded({ ...page, body: broken }),
        /does not decompress|corrupt zstd data/,
      );
    }
    // LZ4 matches that refer to no decoded byte: offset 0, or past the start.
    const block = (offset: number) => Uint8Array.from([0x40, 1, 2, 3, 4, offset, 0, 0x10, 5]);
    expect([...decoded({ codec: Codec.LZ4_RAW, body: block(4), size: 9 })]).toEqual([
      1, 2, 3, 4, 1, 2, 3, 4, 5,
    ]);
    expectRefusal(
      () => decoded({ codec: Codec.LZ4_RAW, body: block(0), size: 9 }),
      /a match refers to 0 bytes back, 4 are decoded/,
    );
    expectRefusal(
      () => decoded({ codec: Codec.LZ4, body: block(5), size: 9 }),
      /a match refers to 5 bytes back, 4 are decoded/,
    );
    expectRefusal(
      () => decoded({ codec: Codec.LZ4_RAW, body: new Uint8Array(0), size: 0 }),
      /ends/,
    );
    // An empty zstd page holds frames that regenerate nothing: here one of no content, one empty
    // raw block.
    const empty = Uint8Array.from([0x28, 0xb5, 0x2f, 0xfd, 0x20, 0, 1, 0, 0]);
    expect(decoded({ codec: Codec.ZSTD, body: empty, size: 0 })).toHaveLength(0);
    expectRefusal(
      () => decoded({ codec: Codec.ZSTD, body: zstdBomb(64 * 1024), size: 0 }),
      /zstd data in a page that says it is empty/,
    );
  });

  it('refuses a page that inflates past its header, having written no more than its size', () => {
    const bombs: [number, Uint8Array, RegExp][] = [
      [Codec.GZIP, gzipBomb(256 * MiB), /more than the 4096 bytes its header says/],
      [Codec.BROTLI, brotliBomb(64 * MiB), /more than the 4096 bytes its header says/],
      [Codec.ZSTD, zstdBomb(1024 * MiB), /more than the 4096 bytes its page header says/],
      [Codec.LZ4_RAW, lz4Bomb(64 * MiB), /more than the 4096 bytes its header says/],
      [Codec.LZ4, lz4Bomb(64 * MiB), /more than the 4096 bytes its header says/],
      [Codec.LZ4, hadoopFrames([{ codec: 0, body: lz4Bomb(MiB), size: 4096 }]), /corrupt LZ4/],
    ];
    for (const [codec, body, message] of bombs) {
      const before = process.memoryUsage().arrayBuffers;
      expectRefusal(() => decompress(codec, body, 4096, new PageBuffer()), message);
      // Measured before anything is collected: whatever the decoder allocated is still counted.
      expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(4 * MiB);
    }
  });
});
