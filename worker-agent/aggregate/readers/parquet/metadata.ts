/** A Parquet footer (FileMetaData) read into what the reader needs: columns, row groups, chunk ranges. */
import type { DataType } from 'apache-arrow';
import { arrowMapping } from './arrow-types.ts';
import { ParquetFormatError } from './errors.ts';
import { Physical, Repetition } from './format.ts';
import { field, ThriftReader, type ThriftStruct } from './thrift.ts';

export interface ParquetColumn {
  /** The top-level name (a nested column's leaves all belong to one top-level column). */
  name: string;
  physical: number;
  optional: boolean;
  /** The Arrow type the reader gives it, or why it leaves the column to parquet-wasm. */
  type: DataType | null;
  unsupported?: string;
  /** A leaf of a group or a repeated field: its values do not map one to one onto rows. */
  nested: boolean;
  /** Why neither reader reads the column (its values would be wrong or meaningless). */
  refused?: string;
}

export interface ChunkMeta {
  codec: number;
  encodings: number[];
  /** Byte range of the chunk's pages (dictionary page included) in the file. */
  start: number;
  length: number;
  /** Pages of another file (ColumnChunk.file_path) are left to parquet-wasm. */
  external: boolean;
  /** Its pages are encrypted (ColumnChunk.crypto_metadata): neither reader decodes them. */
  encrypted: boolean;
}

export interface RowGroupMeta {
  rows: number;
  /** Compressed bytes of the group's column chunks. */
  bytes: number;
  /** One per leaf column, in schema order. */
  chunks: ChunkMeta[];
}

export interface ParquetMetadata {
  /** One per leaf; a nested top-level column has several leaves, all unsupported. */
  leaves: ParquetColumn[];
  /** The file's top-level column names. */
  columns: string[];
  groups: RowGroupMeta[];
}

/** Parses FileMetaData from the footer's bytes. */
export function parseMetadata(footer: Uint8Array): ParquetMetadata {
  const meta = new ThriftReader(footer).readStruct();
  const schema = field.list(meta, 2, 'a schema') as ThriftStruct[];
  const leaves = schemaLeaves(schema);
  const groups = (field.list(meta, 4, 'row groups') as ThriftStruct[]).map((group, index) =>
    rowGroup(group, index, leaves.length),
  );
  return { leaves, columns: [...new Set(leaves.map((leaf) => leaf.name))], groups };
}

/**
 * Throws unless every row group's row count is a count and every column chunk lies within the
 * file's first `dataEnd` bytes (where its footer starts), so that no claim of the footer reaches
 * past the file it came with.
 */
export function checkExtents(meta: ParquetMetadata, dataEnd: number): void {
  meta.groups.forEach((group, index) => {
    if (!Number.isSafeInteger(group.rows) || group.rows < 0) {
      throw new ParquetFormatError(`row group ${index} says it has ${group.rows} rows`);
    }
    group.chunks.forEach((chunk, leaf) => {
      if (chunk.external || chunk.start + chunk.length <= dataEnd) return;
      throw new ParquetFormatError(
        `row group ${index}, column ${meta.leaves[leaf]?.name ?? leaf}: its pages at bytes ` +
          `[${chunk.start}, ${chunk.start + chunk.length}) run past the ${dataEnd} bytes before the footer`,
      );
    });
  });
}

/** The leaves under the root, each named by its top-level ancestor. */
function schemaLeaves(schema: ThriftStruct[]): ParquetColumn[] {
  const leaves: ParquetColumn[] = [];
  let next = 1;
  /** Reads element `next` and its subtree; `top` is the top-level name above it, if any. */
  const walk = (top: string | null, repeatedAbove: boolean): void => {
    const element = schema[next++];
    if (!element) throw new ParquetFormatError('the Parquet schema ends early');
    const name = field.string(element, 4) ?? '';
    const children = field.optionalInt(element, 5) ?? 0;
    const repetition = field.optionalInt(element, 3) ?? Repetition.REQUIRED;
    const repeated = repeatedAbove || repetition === Repetition.REPEATED;
    if (children > 0) {
      for (let i = 0; i < children; i++) walk(top ?? name, repeated);
      return;
    }
    const nested = top !== null || repeated;
    const physical = field.optionalInt(element, 1) ?? -1;
    const mapping = arrowMapping(element);
    const refused = repeated
      ? 'repeated fields are not supported'
      : nested
        ? 'nested (group) columns are not supported'
        : physical === Physical.INT96
          ? 'INT96 timestamps are not supported'
          : undefined;
    leaves.push({
      name: top ?? name,
      physical,
      optional: repetition === Repetition.OPTIONAL,
      type: nested || !('type' in mapping) ? null : mapping.type,
      ...(nested
        ? { unsupported: 'a nested column' }
        : 'unsupported' in mapping
          ? { unsupported: mapping.unsupported }
          : {}),
      nested,
      ...(refused ? { refused } : {}),
    });
  };
  const root = schema[0];
  if (!root) throw new ParquetFormatError('the Parquet schema is empty');
  const count = field.optionalInt(root, 5) ?? 0;
  if (count > schema.length) throw new ParquetFormatError('the Parquet schema is corrupt');
  for (let i = 0; i < count; i++) walk(null, false);
  return leaves;
}

function rowGroup(group: ThriftStruct, index: number, leafCount: number): RowGroupMeta {
  const chunks = (field.list(group, 1, `row group ${index}'s columns`) as ThriftStruct[]).map(
    (chunk) => columnChunk(chunk, index),
  );
  if (chunks.length !== leafCount) {
    throw new ParquetFormatError(
      `row group ${index} has ${chunks.length} column chunks for ${leafCount} columns`,
    );
  }
  return {
    rows: field.int(group, 3, `row group ${index}'s row count`),
    bytes: chunks.reduce((sum, chunk) => sum + chunk.length, 0),
    chunks,
  };
}

/** ColumnChunk fields: its file, its metadata, its encryption (parquet.thrift). */
const FILE_PATH = 1;
const META_DATA = 3;
const CRYPTO_METADATA = 8;

function columnChunk(chunk: ThriftStruct, group: number): ChunkMeta {
  const external = field.string(chunk, FILE_PATH) !== undefined;
  if (field.optionalStruct(chunk, CRYPTO_METADATA) !== undefined) {
    // Its metadata may itself be encrypted (absent here): nothing of it is read.
    return { codec: 0, encodings: [], start: 0, length: 0, external, encrypted: true };
  }
  const meta = field.struct(chunk, META_DATA, `column metadata in row group ${group}`);
  const dataPage = field.int(meta, 9, 'a data page offset');
  const dictionaryPage = field.optionalInt(meta, 11);
  // Some writers put 0 for "no dictionary page"; a dictionary page always comes first.
  const start =
    dictionaryPage !== undefined && dictionaryPage > 0 && dictionaryPage < dataPage
      ? dictionaryPage
      : dataPage;
  const length = field.int(meta, 7, 'a compressed size');
  if (start < 0 || length < 0) throw new ParquetFormatError('a column chunk has a negative range');
  return {
    codec: field.int(meta, 4, 'a codec'),
    encodings: field.list(meta, 2, 'encodings') as number[],
    start,
    length,
    external,
    encrypted: false,
  };
}
