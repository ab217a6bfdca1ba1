/**
 * Blocks of object versions on local disk: `<dir>/<id>/<blockIndex>`, one directory per object
 * version. Every failure is a miss or a skipped write, never an error: the cache only saves reads.
 * Several threads (each with its own BlockCache) share a directory, so blocks appear by atomic
 * rename and may vanish (another thread's trim) at any moment.
 */
import { createHash, randomUUID } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { mkdir, readdir, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

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

const BLOCK_NAME = /^\d+$/;

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

  /**
   * Copies bytes [from, from + target.length) of block `index` of object `id` into `target`, when
   * the block is on disk with exactly `length` bytes; false (a miss) otherwise. Synchronous: a
   * block comes from the page cache in microseconds, less than a trip through libuv's pool, and
   * straight into the caller's buffer, with no array per block for the collector.
   */
  readInto(id: string, index: number, length: number, from: number, target: Uint8Array): boolean {
    let fd: number | null = null;
    try {
      fd = openSync(join(this.dir, id, String(index)), 'r');
      if (fstatSync(fd).size !== length) return false;
      return readSync(fd, target, 0, target.length, from) === target.length;
    } catch {
      return false;
    } finally {
      if (fd !== null) closeSync(fd);
    }
  }

  /** Stores a block; a reader sees all of it or nothing (temp file, then rename). Failures are ignored. */
  async write(id: string, index: number, bytes: Uint8Array): Promise<void> {
    const objectDir = join(this.dir, id);
    const temp = join(objectDir, `${index}.${randomUUID()}.tmp`);
    try {
      await mkdir(objectDir, { recursive: true });
      await writeFile(temp, bytes);
      await rename(temp, join(objectDir, String(index)));
      this.written += bytes.byteLength;
    } catch {
      await rm(temp, { force: true }).catch(() => undefined);
    }
  }

  /** Marks object `id` as just used, so trim() deletes it last. */
  async touch(id: string): Promise<void> {
    const now = new Date();
    await utimes(join(this.dir, id), now, now).catch(() => undefined);
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

  /**
   * Size without a stat per block: every block but an object's last one is full, so only the
   * highest-numbered block is measured. Leftover temp files (a crash mid-write) count as full blocks.
   * Null when the directory vanished meanwhile (another thread trimmed it).
   */
  private async objectDir(path: string): Promise<ObjectDir | null> {
    try {
      const [info, names] = await Promise.all([stat(path), readdir(path)]);
      const blocks = names.filter((name) => BLOCK_NAME.test(name)).map(Number);
      const others = names.length - blocks.length;
      let bytes = others * this.blockBytes;
      if (blocks.length > 0) {
        const highest = blocks.reduce((max, index) => Math.max(max, index));
        const last = await stat(join(path, String(highest))).catch(() => null);
        bytes += (blocks.length - 1) * this.blockBytes + (last?.size ?? 0);
      }
      return { path, usedAt: info.mtimeMs, bytes };
    } catch {
      return null;
    }
  }
}
