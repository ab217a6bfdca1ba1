/** Walks a column chunk's pages: headers, decompression, definition levels, value encodings. */
import { checkPageSize, decompress, PageBuffer } from './codecs.ts';
import type { ColumnArrays } from './column-arrays.ts';
import { BoolValues, type ColumnValues, type PageRows } from './column-values.ts';
import { ParquetFormatError, ParquetUnsupportedError } from './errors.ts';
import { Codec, Encoding, PageType } from './format.ts';
import { HybridReader } from './hybrid.ts';
import { field, ThriftReader, type ThriftStruct } from './thrift.ts';

export interface ChunkInput {
  bytes: Uint8Array;
  codec: number;
  optional: boolean;
  /** The row group's row count: the chunk must hold exactly that many values. */
  rows: number;
  /** Where the rows' validity goes, when some are NULL. */
  arrays: ColumnArrays;
}

/**
 * Scratch arrays reused across pages and chunks (grown as needed). One per thread is enough:
 * decoding a chunk is synchronous, and nothing decoded keeps a view of them.
 */
class Scratch {
  readonly pages = new PageBuffer();
  private levelBuffer = new Uint8Array(0);
  private indexBuffer = new Int32Array(0);
  levels(count: number): Uint8Array {
    if (this.levelBuffer.length < count) this.levelBuffer = new Uint8Array(count);
    return this.levelBuffer.subarray(0, count);
  }
  /** Room for `count` indices and one more, which a branch-free scatter may read past them. */
  indices(count: number): Int32Array {
    if (this.indexBuffer.length <= count) this.indexBuffer = new Int32Array(count + 1);
    return this.indexBuffer;
  }
}

let shared = new Scratch();

/**
 * Drops the scratch arrays, which grow to the largest page and row group a thread has seen: a
 * thread that read one large (or hostile) file keeps none of that for the next task.
 */
export function releasePageScratch(): void {
  shared = new Scratch();
}

export interface ScanOptions {
  /** Checks a page's body against its uncompressed size (default checkPageSize). */
  check?: (codec: number, body: Uint8Array, size: number) => void;
  /**
   * The data pages' values must add up to the row group's rows (default true). Not so for a
   * nested column's leaf, whose values count repetitions.
   */
  exactRows?: boolean;
  /**
   * Fewest bytes a dictionary entry takes (default 4: the reader's values are 4 or 8 bytes, and a
   * string is its 4-byte length and its bytes).
   */
  entryBytes?: number;
}

/** What a column chunk's page headers declare, all checked against the chunk and row group. */
export interface ChunkScan {
  /** Bytes its pages decompress to, in all (a string column's values take about that much). */
  pageBytes: number;
}

/**
 * Walks the chunk's page headers (no page is decompressed) and checks what they declare before
 * anything is allocated for it: each page lies inside the chunk and decompresses to at most
 * MAX_PAGE_BYTES (a Snappy page to what its own header says, within what its length can hold), a
 * dictionary's entry count fits its page, and the data pages' values add up to the row group's
 * `rows` exactly. A footer that declares millions of rows over a page of ten is refused here.
 */
export function scanChunk(
  bytes: Uint8Array,
  codec: number,
  rows: number,
  options: ScanOptions = {},
): ChunkScan {
  const check = options.check ?? checkPageSize;
  const exact = options.exactRows ?? true;
  const limit = exact ? rows : Infinity;
  const entryBytes = options.entryBytes ?? 4;
  let values = 0;
  let pageBytes = 0;
  let position = 0;
  while (position < bytes.length && (!exact || values < rows)) {
    const { header, type, size, body, end } = readPageHeader(bytes, position);
    position = end;
    if (
      type !== PageType.DICTIONARY_PAGE &&
      type !== PageType.DATA_PAGE &&
      type !== PageType.DATA_PAGE_V2
    )
      continue;
    if (type === PageType.DATA_PAGE_V2) {
      const page = field.struct(header, 8, 'a v2 data page header');
      const { levels, values: section, compressed } = v2Sections(page, body, size);
      if (compressed) check(codec, body.subarray(levels.end), section);
      else check(Codec.UNCOMPRESSED, body, size);
      values += pageValues(field.int(page, 1, 'a page value count'), values, limit);
    } else {
      check(codec, body, size);
      if (type === PageType.DATA_PAGE) {
        const page = field.struct(header, 5, 'a data page header');
        values += pageValues(field.int(page, 1, 'a page value count'), values, limit);
      } else {
        const dictionary = field.struct(header, 7, 'a dictionary page header');
        const count = field.int(dictionary, 1, 'a dictionary size');
        if (count < 0 || count * entryBytes > size) {
          throw new ParquetFormatError(
            `the dictionary page says it holds ${count} values in ${size} bytes`,
          );
        }
      }
    }
    pageBytes += size;
  }
  if (exact && values !== rows) {
    throw new ParquetFormatError(
      `its pages hold ${values} values for the row group's ${rows} rows`,
    );
  }
  return { pageBytes };
}

/** The page header at `position`, its body and where the next page starts; refused past the chunk. */
function readPageHeader(bytes: Uint8Array, position: number) {
  const reader = new ThriftReader(bytes, position);
  const header = reader.readStruct();
  const type = field.int(header, 1, 'a page type');
  const size = field.int(header, 2, 'a page size');
  const compressed = field.int(header, 3, 'a compressed page size');
  const start = reader.position;
  if (compressed < 0 || size < 0 || start + compressed > bytes.length) {
    throw new ParquetFormatError('a page runs past the end of its column chunk');
  }
  const end = start + compressed;
  return { header, type, size, body: bytes.subarray(start, end), end };
}

/**
 * A v2 data page's sections: its definition levels (after its repetition levels), the size of its
 * values uncompressed, and whether they are compressed (`is_compressed`, default true). Values
 * that are 0 bytes uncompressed may be 0 bytes in the page, compressed or not.
 */
function v2Sections(page: ThriftStruct, body: Uint8Array, size: number) {
  const definition = field.int(page, 5, 'a definition levels length');
  const repetition = field.int(page, 6, 'a repetition levels length');
  const end = repetition + definition;
  if (definition < 0 || repetition < 0 || end > body.length || end > size) {
    throw new ParquetFormatError("a data page's levels run past its end");
  }
  const values = size - end;
  const compressed = (field.bool(page, 7) ?? true) && !(values === 0 && body.length === end);
  return { levels: { start: repetition, end }, values, compressed };
}

/** A data page's value count, refused when negative or past the row group's rows. */
function pageValues(count: number, before: number, rows: number): number {
  if (count < 0 || before + count > rows) {
    throw new ParquetFormatError(
      `a page says it holds ${count} values, past the row group's ${rows} rows`,
    );
  }
  return count;
}

/**
 * Decodes every page of the chunk into `values`; returns the rows' validity (null: no NULLs).
 * The chunk's headers were checked by scanChunk first.
 */
export function decodeChunk(input: ChunkInput, values: ColumnValues): Uint8Array | null {
  const { bytes, rows } = input;
  const scratch = shared;
  let valid: Uint8Array | null = null;
  let row = 0;
  let position = 0;
  while (position < bytes.length && row < rows) {
    const { header, type, size, body, end } = readPageHeader(bytes, position);
    position = end;
    if (type === PageType.DICTIONARY_PAGE) {
      const dictionary = field.struct(header, 7, 'a dictionary page header');
      values.setDictionary(
        decompress(input.codec, body, size, scratch.pages),
        field.int(dictionary, 1, 'a dictionary size'),
      );
      continue;
    }
    if (type !== PageType.DATA_PAGE && type !== PageType.DATA_PAGE_V2) continue;
    const page =
      type === PageType.DATA_PAGE
        ? dataPageV1(input, header, body, size, row, scratch)
        : dataPageV2(input, header, body, size, row, scratch);
    if (row + page.rows.count > rows) {
      throw new ParquetFormatError(
        `the column chunk holds more values than the row group's ${rows} rows`,
      );
    }
    if (page.rows.valid) {
      valid ??= input.arrays.uint8('valid', rows).fill(1, 0, row);
      valid.set(page.rows.valid, row);
    } else valid?.fill(1, row, row + page.rows.count);
    decodeValues(page, values, scratch);
    row += page.rows.count;
  }
  if (row !== rows) {
    throw new ParquetFormatError(`the column chunk holds ${row} values for ${rows} rows`);
  }
  return valid;
}

interface DecodedPage {
  encoding: number;
  data: Uint8Array;
  /** Where the values start in `data`. */
  start: number;
  rows: PageRows;
}

function dataPageV1(
  input: ChunkInput,
  header: ThriftStruct,
  body: Uint8Array,
  size: number,
  row: number,
  scratch: Scratch,
): DecodedPage {
  const page = field.struct(header, 5, 'a data page header');
  const count = field.int(page, 1, 'a page value count');
  const data = decompress(input.codec, body, size, scratch.pages);
  let start = 0;
  let levels: Uint8Array | null = null;
  let present = count;
  if (input.optional) {
    if (field.optionalInt(page, 3) === Encoding.BIT_PACKED) {
      throw new ParquetUnsupportedError('BIT_PACKED definition levels are not supported');
    }
    if (data.length < 4) throw new ParquetFormatError('a data page is too short for its levels');
    const length = data[0]! | (data[1]! << 8) | (data[2]! << 16) | (data[3]! << 24);
    if (length < 0 || 4 + length > data.length) {
      throw new ParquetFormatError("a data page's definition levels run past its end");
    }
    levels = scratch.levels(count);
    present = new HybridReader(data, 4, 4 + length).readBits(count, levels);
    start = 4 + length;
  }
  return {
    encoding: field.int(page, 2, 'a page encoding'),
    data,
    start,
    rows: pageRows(row, count, levels, present),
  };
}

function dataPageV2(
  input: ChunkInput,
  header: ThriftStruct,
  body: Uint8Array,
  size: number,
  row: number,
  scratch: Scratch,
): DecodedPage {
  const page = field.struct(header, 8, 'a v2 data page header');
  const count = field.int(page, 1, 'a page value count');
  // A flat column's repetition levels (some writers write them, all 0) are skipped.
  const { levels: section, values: valueBytes, compressed } = v2Sections(page, body, size);
  let levels: Uint8Array | null = null;
  let present = count;
  if (input.optional) {
    levels = scratch.levels(count);
    present = new HybridReader(body, section.start, section.end).readBits(count, levels);
  }
  const rest = body.subarray(section.end);
  const data = compressed ? decompress(input.codec, rest, valueBytes, scratch.pages) : rest;
  return {
    encoding: field.int(page, 4, 'a page encoding'),
    data,
    start: 0,
    rows: pageRows(row, count, levels, present),
  };
}

/** The page's rows, `present` of them non-NULL (`levels`, if any, is then dropped when all are). */
function pageRows(
  row: number,
  count: number,
  levels: Uint8Array | null,
  present: number,
): PageRows {
  return { row, count, valid: present === count ? null : levels, values: present };
}

function decodeValues(page: DecodedPage, values: ColumnValues, scratch: Scratch): void {
  const { data, start, rows, encoding } = page;
  if (rows.values === 0) return values.nulls(rows);
  if (encoding === Encoding.PLAIN) {
    values.plain(data, start, data.length, rows);
  } else if (encoding === Encoding.RLE_DICTIONARY || encoding === Encoding.PLAIN_DICTIONARY) {
    if (start >= data.length) throw new ParquetFormatError('a dictionary-encoded page is empty');
    if (values.wasmIndices(data.subarray(start), rows)) return;
    const indices = scratch.indices(rows.values);
    new HybridReader(data, start + 1, data.length).read(data[start]!, rows.values, indices);
    values.indices(indices, rows);
  } else if (encoding === Encoding.RLE && values instanceof BoolValues) {
    values.rle(data, start, data.length, rows);
  } else {
    throw new ParquetUnsupportedError(`a data page's encoding ${encoding} is not supported`);
  }
}
