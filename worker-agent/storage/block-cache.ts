/**
 * Blocks of object versions on local disk, one directory per object version, one file (an
 * extent, `<dir>/<id>/<first>-<last>`) per run of blocks fetched together: a file per block made
 * creating files cost more than fetching them. Every failure is a miss or a skipped write, never
 * an error: the cache only saves reads. Several threads (each with its own BlockCache) share a
 * directory, so extents appear by atomic rename and may vanish (another thread's trim) at any
 * moment.
 */
import { createHash, randomUUID } from 'node:crypto';
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
  writeFileSync,
} from 'node:fs';
import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { extentName, parseExtent, type BlockRun } from './block-ranges.ts';

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

/** Writes `file` in `dir`, making `dir` only when the write finds it missing (once per object). */
function writeCreatingDir(dir: string, file: string, bytes: Uint8Array): void {
  try {
    writeFileSync(file, bytes);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    mkdirSync(dir, { recursive: true });
    writeFileSync(file, bytes);
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

  constructor({ dir, maxBytes, blockBytes = 256 * 1024 }: BlockCacheOptions) {
    if (!Number.isSafeInteger(blockBytes) || blockBytes <= 0) {
      throw new RangeError(`blockBytes must be a positive integer, got ${blockBytes}`);
    }
    this.dir = dir;
    this.maxBytes = maxBytes;
    this.blockBytes = blockBytes;
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
   * the extent is on disk with exactly `length` bytes; false (a miss) otherwise. Synchronous:
   * bytes come from the page cache in microseconds, less than a trip through libuv's pool, and
   * straight into the caller's buffer, with no array for the collector. An extent of the wrong
   * length (damaged) is deleted, so that a shorter one fetched again is not shadowed by it.
   */
  readInto(id: string, run: BlockRun, length: number, from: number, target: Uint8Array): boolean {
    const file = join(this.dir, id, extentName(run));
    let fd: number | null = null;
    let damaged = false;
    try {
      fd = openSync(file, 'r');
      damaged = fstatSync(fd).size !== length;
      return !damaged && readSync(fd, target, 0, target.length, from) === target.length;
    } catch {
      return false;
    } finally {
      if (fd !== null) closeSync(fd);
      if (damaged) removeQuietly(file);
    }
  }

  /**
   * Stores the blocks of `run`; a reader sees all of them or none (temp file, then rename).
   * Failures are ignored. Synchronous like readInto.
   */
  write(id: string, run: BlockRun, bytes: Uint8Array): void {
    const objectDir = join(this.dir, id);
    const temp = join(objectDir, `${extentName(run)}.${randomUUID()}.tmp`);
    try {
      writeCreatingDir(objectDir, temp, bytes);
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
