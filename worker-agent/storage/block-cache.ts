/**
 * Blocks of object versions on local disk, one directory per object version, one file (an
 * extent, `<dir>/<id>/<first>-<last>`) per run of blocks fetched together: a file per block made
 * creating files cost more than fetching them. Every failure is a miss or a skipped write, never
 * an error: the cache only saves reads. Several threads (each with its own BlockCache, all with
 * the same key) share a directory, so extents appear by atomic rename and may vanish (another
 * thread's trim) at any moment. Every block read is checked against its keyed tag
 * (extent-seal.ts): an extent that fails is deleted and read from the store again, so a process
 * that rewrote cache files, or a disk that damaged them, never changes what a query sees.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import {
  closeSync,
  fstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readSync,
  renameSync,
  rmSync,
  utimesSync,
  writevSync,
} from 'node:fs';
import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { extentName, parseExtent, type BlockRun } from './block-ranges.ts';
import { ExtentSealer, FOOTER_BYTES, SEAL_BYTES, sealedLength } from './extent-seal.ts';

/** One version of one object: the same key with another ETag or size is another object. */
export interface CachedObject {
  endpoint: string | undefined;
  bucket: string;
  key: string;
  /** Unquoted. */
  etag: string;
  size: number;
}

export interface BlockCacheOptions {
  dir: string;
  /** trim() brings the cache down to 80% of this once it holds more. */
  maxBytes: number;
  blockBytes?: number;
  /**
   * The 32-byte key the blocks' tags are made with; instances that share a directory must share
   * it. Default: a random key of this instance. Extents written under another key are misses;
   * the agent keeps its key in the cache dir (cache-key.ts), so a restart keeps its extents.
   */
  key?: Uint8Array;
  /** Told of the first extent that fails its check (later ones are only counted). */
  warn?: (message: string, fields: Record<string, unknown>) => void;
}

/** What trim() found and did. */
export interface TrimResult {
  /** Bytes held after trimming. */
  bytes: number;
  /** Object directories deleted. */
  removed: number;
}

interface ObjectDir {
  path: string;
  usedAt: number;
  bytes: number;
}

/** Writes `parts` to `file`. */
function writeParts(file: string, parts: readonly Uint8Array[]): void {
  const fd = openSync(file, 'w');
  try {
    writevSync(fd, parts as Uint8Array[]);
  } finally {
    closeSync(fd);
  }
}

/** Writes `file` in `dir`, making `dir` only when the write finds it missing (once per object). */
function writeCreatingDir(dir: string, file: string, parts: readonly Uint8Array[]): void {
  try {
    writeParts(file, parts);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    mkdirSync(dir, { recursive: true });
    writeParts(file, parts);
  }
}

/** Deletes `file` if it can; one that cannot go is counted in its object's size until trim. */
function removeQuietly(file: string): void {
  try {
    rmSync(file, { force: true });
  } catch {
    // Left for trim, which deletes the whole object directory.
  }
}

/** The directory name of an object version: its identity, hashed to a safe, fixed-length name. */
export function cacheId(object: CachedObject): string {
  const identity = [object.endpoint ?? '', object.bucket, object.key, object.etag, object.size];
  return createHash('sha256').update(identity.join('\0')).digest('hex').slice(0, 32);
}

export class BlockCache {
  readonly dir: string;
  readonly maxBytes: number;
  readonly blockBytes: number;
  /** Bytes this instance wrote since it last trimmed, and whether it ever has. */
  private written = 0;
  private trimmed = false;
  private readonly sealer: ExtentSealer;
  private readonly warn: BlockCacheOptions['warn'];
  /** Holds a block read for a range that covers only part of it. */
  private scratch: Uint8Array | null = null;
  /** Extents that failed their check (tampered with or damaged), each deleted and fetched again. */
  mismatches = 0;

  constructor({ dir, maxBytes, blockBytes = 256 * 1024, key, warn }: BlockCacheOptions) {
    if (!Number.isSafeInteger(blockBytes) || blockBytes <= 0) {
      throw new RangeError(`blockBytes must be a positive integer, got ${blockBytes}`);
    }
    this.dir = dir;
    this.maxBytes = maxBytes;
    this.blockBytes = blockBytes;
    this.sealer = new ExtentSealer(key ?? randomBytes(32));
    this.warn = warn;
  }

  /** The runs of blocks object `id` has on disk (none when it has no directory). */
  extents(id: string): BlockRun[] {
    try {
      return readdirSync(join(this.dir, id)).flatMap((name) => parseExtent(name) ?? []);
    } catch {
      return [];
    }
  }

  /**
   * Copies bytes [from, from + target.length) of extent `run` of object `id` into `target`, when
   * the extent is on disk with exactly `length` bytes (and its tags) and every block the range
   * touches passes its check; false (a miss) otherwise. Synchronous: bytes come from the page
   * cache in microseconds, less than a trip through libuv's pool, and straight into the caller's
   * buffer where a block lies wholly inside the range. An extent of the wrong length (damaged, or
   * written before extents had tags), of another key, or with a block that fails its check is
   * deleted, so that the blocks fetched again are not shadowed by it.
   */
  readInto(id: string, run: BlockRun, length: number, from: number, target: Uint8Array): boolean {
    const file = join(this.dir, id, extentName(run));
    const blocks = run.last - run.first + 1;
    const size = sealedLength(length, blocks);
    let fd: number | null = null;
    let drop: 'damaged' | 'tampered' | null = null;
    try {
      if (from < 0 || from + target.length > length) return false;
      fd = openSync(file, 'r');
      const footer = new Uint8Array(FOOTER_BYTES);
      if (
        fstatSync(fd).size !== size ||
        readSync(fd, footer, 0, FOOTER_BYTES, size - FOOTER_BYTES) !== FOOTER_BYTES ||
        !this.sealer.ownFooter(footer)
      ) {
        drop = 'damaged';
        return false;
      }
      if (target.length === 0) return true;
      const { blockBytes } = this;
      const first = Math.floor(from / blockBytes);
      const last = Math.floor((from + target.length - 1) / blockBytes);
      const seals = new Uint8Array((last - first + 1) * SEAL_BYTES);
      if (readSync(fd, seals, 0, seals.length, length + first * SEAL_BYTES) !== seals.length) {
        return false;
      }
      const end = from + target.length;
      for (let block = first; block <= last; block++) {
        const start = block * blockBytes;
        const stop = Math.min(length, start + blockBytes);
        const whole = start >= from && stop <= end;
        const bytes = whole
          ? target.subarray(start - from, stop - from)
          : this.blockBuffer(stop - start);
        if (readSync(fd, bytes, 0, bytes.length, start) !== bytes.length) return false;
        const seal = seals.subarray((block - first) * SEAL_BYTES, (block - first + 1) * SEAL_BYTES);
        if (!this.sealer.verify(id, run.first + block, bytes, seal)) {
          drop = 'tampered';
          return false;
        }
        if (!whole) {
          const a = Math.max(from, start);
          target.set(bytes.subarray(a - start, Math.min(end, stop) - start), a - from);
        }
      }
      return true;
    } catch {
      return false;
    } finally {
      if (fd !== null) closeSync(fd);
      if (drop) removeQuietly(file);
      if (drop === 'tampered') this.mismatched(id, run);
    }
  }

  /** Counts an extent that failed its check, and says so the first time. */
  private mismatched(id: string, run: BlockRun): void {
    this.mismatches += 1;
    if (this.mismatches === 1) {
      this.warn?.('a cached extent failed its checksum: deleted, and read from the store again', {
        dir: this.dir,
        object: id,
        extent: extentName(run),
      });
    }
  }

  /** The scratch buffer, `length` bytes of it (at most a block). */
  private blockBuffer(length: number): Uint8Array {
    this.scratch ??= new Uint8Array(this.blockBytes);
    return this.scratch.subarray(0, length);
  }

  /**
   * Stores the blocks of `run`, with their tags; a reader sees all of them or none (temp file,
   * then rename). Failures are ignored. Synchronous like readInto.
   */
  write(id: string, run: BlockRun, bytes: Uint8Array): void {
    const { blockBytes } = this;
    const blocks: Uint8Array[] = [];
    for (let at = 0; at < bytes.byteLength; at += blockBytes) {
      blocks.push(bytes.subarray(at, Math.min(bytes.byteLength, at + blockBytes)));
    }
    if (blocks.length !== run.last - run.first + 1) return;
    const objectDir = join(this.dir, id);
    const temp = join(objectDir, `${extentName(run)}.${randomUUID()}.tmp`);
    try {
      writeCreatingDir(objectDir, temp, [bytes, this.sealer.seal(id, run.first, blocks)]);
      renameSync(temp, join(objectDir, extentName(run)));
      this.written += bytes.byteLength;
    } catch {
      removeQuietly(temp);
    }
  }

  /** Marks object `id` as just used, so trim() deletes it last. */
  touch(id: string): void {
    const now = new Date();
    try {
      utimesSync(join(this.dir, id), now, now);
    } catch {
      // Trimmed meanwhile by another thread: nothing to mark.
    }
  }

  /**
   * Trims once this instance has written a tenth of maxBytes since it last did (or never has):
   * a trim reads every object's directory, too much to do after every task of a large cache.
   * The cache may so run over its bound by a tenth per thread until the next trim.
   */
  async trimIfDue(): Promise<TrimResult | null> {
    if (this.trimmed && this.written < this.maxBytes / 10) return null;
    return this.trim();
  }

  /**
   * Once the cache holds more than maxBytes, deletes whole objects, least recently used first,
   * until it holds at most 80% of maxBytes (so that it does not trim again after every task).
   */
  async trim(): Promise<TrimResult> {
    this.trimmed = true;
    this.written = 0;
    const objects = await this.objectDirs();
    let bytes = objects.reduce((sum, object) => sum + object.bytes, 0);
    let removed = 0;
    if (bytes <= this.maxBytes) return { bytes, removed };
    const target = Math.floor(this.maxBytes * 0.8);
    for (const object of objects.sort((a, b) => a.usedAt - b.usedAt)) {
      if (bytes <= target) break;
      // Another thread may be writing into it: rm retries a directory that refills while it empties.
      await rm(object.path, { recursive: true, force: true, maxRetries: 3 }).catch(() => undefined);
      bytes -= object.bytes;
      removed += 1;
    }
    return { bytes, removed };
  }

  private async objectDirs(): Promise<ObjectDir[]> {
    const entries = await readdir(this.dir, { withFileTypes: true }).catch(() => []);
    const dirs = await Promise.all(
      entries.filter((e) => e.isDirectory()).map((e) => this.objectDir(join(this.dir, e.name))),
    );
    return dirs.filter((dir): dir is ObjectDir => dir !== null);
  }

  /** An object's size on disk (every file, temp files too); null when it vanished meanwhile. */
  private async objectDir(path: string): Promise<ObjectDir | null> {
    try {
      const [info, names] = await Promise.all([stat(path), readdir(path)]);
      const sizes = await Promise.all(
        names.map((name) =>
          stat(join(path, name)).then(
            (file) => file.size,
            () => 0,
          ),
        ),
      );
      return { path, usedAt: info.mtimeMs, bytes: sizes.reduce((sum, size) => sum + size, 0) };
    } catch {
      return null;
    }
  }
}
