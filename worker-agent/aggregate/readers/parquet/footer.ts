/** Finds and parses a Parquet file's footer through range reads. */
import { ParquetFormatError, ParquetUnsupportedError } from './errors.ts';
import { checkExtents, parseMetadata, type ParquetMetadata } from './metadata.ts';

/** Bytes read from the end on the first try: most footers fit, saving a second request. */
const TAIL_GUESS = 64 * 1024;

/** Bytes [start, end) of the object, in `into` if the store can (see CallOptions.into). */
export type ReadRange = (start: number, end: number, into?: Uint8Array) => Promise<Uint8Array>;

/** Thrown for a file that is not Parquet at all (as opposed to a corrupt one). */
export class NotParquetError extends Error {}

/** The metadata of the `size`-byte file `read` reads from. */
export async function readFooter(read: ReadRange, size: number): Promise<ParquetMetadata> {
  if (size < 12) throw new NotParquetError(`not a Parquet file (${size} bytes)`);
  const tailStart = Math.max(0, size - TAIL_GUESS);
  let tail = await read(tailStart, size);
  if (tail.length !== size - tailStart) {
    throw new ParquetFormatError(`the object ended at byte ${tailStart + tail.length}`);
  }
  const magic = new TextDecoder().decode(tail.subarray(tail.length - 4));
  if (magic === 'PARE') {
    throw new ParquetUnsupportedError("encrypted: not supported (the file's footer is encrypted)");
  }
  if (magic !== 'PAR1') {
    throw new NotParquetError('not a Parquet file (no PAR1 magic at the end)');
  }
  const length = new DataView(tail.buffer, tail.byteOffset + tail.length - 8, 4).getInt32(0, true);
  if (length <= 0 || length > size - 12) {
    throw new NotParquetError('the Parquet footer length is corrupt');
  }
  const footerStart = size - 8 - length;
  let meta: ParquetMetadata;
  if (footerStart < tailStart) {
    tail = await read(footerStart, size);
    if (tail.length !== size - footerStart) {
      throw new ParquetFormatError(`the object ended at byte ${footerStart + tail.length}`);
    }
    meta = parseMetadata(tail.subarray(0, length));
  } else {
    meta = parseMetadata(tail.subarray(footerStart - tailStart, footerStart - tailStart + length));
  }
  checkExtents(meta, footerStart);
  return meta;
}
