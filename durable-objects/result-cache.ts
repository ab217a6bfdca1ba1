/**
 * Results read lately, decoded, least recently used out first: a client paging through a large
 * result reads its object from the store once, not once a page, and a small result handed back
 * inline by its final step is never read back at all. A result object is never rewritten (its
 * name carries the job and the attempt), so an entry cannot go stale; the caller checks the job
 * and its store before it looks here.
 */
import type { Table } from 'apache-arrow';

/** A decoded result and the size of its Arrow IPC bytes, what the cache's bound counts. */
export interface Decoded {
  table: Table;
  bytes: number;
}

interface Entry {
  /** The result, or how to decode it when first asked for (most inline results never are). */
  source: Decoded | (() => Decoded);
  /** What the entry counts against the bound: its IPC bytes, or until decoded what it holds. */
  bytes: number;
}

/** Where a result is found in the cache: its store and its object key. */
export const resultCacheKey = (storeId: string, key: string) => `${storeId}/${key}`;

export class ResultCache {
  private readonly entries = new Map<string, Entry>();
  private bytes = 0;

  /**
   * `maxBytes` bounds the IPC sizes of the results held (decoded, a table takes about as much);
   * a Durable Object has 128 MB in all, so the default leaves it most of them.
   */
  constructor(private readonly maxBytes = 32 * 1024 * 1024) {}

  /** The table under `key`; undefined when not held, or when it fails to decode (then dropped). */
  get(key: string): Table | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    this.remove(key, entry);
    let decoded: Decoded;
    try {
      decoded = typeof entry.source === 'function' ? entry.source() : entry.source;
    } catch {
      return undefined;
    }
    this.set(key, decoded, decoded.bytes);
    return decoded.table;
  }

  /** Holds `source` under `key`, counting `bytes` until it is decoded (then its IPC size). */
  set(key: string, source: Entry['source'], bytes: number): void {
    const held = this.entries.get(key);
    if (held) this.remove(key, held);
    if (bytes > this.maxBytes) return;
    this.entries.set(key, { source, bytes });
    this.bytes += bytes;
    for (const [oldest, entry] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.remove(oldest, entry);
    }
  }

  /** Drops every entry whose key starts with `prefix` (a removed job's results). */
  forget(prefix: string): void {
    for (const [key, entry] of this.entries) if (key.startsWith(prefix)) this.remove(key, entry);
  }

  private remove(key: string, entry: Entry): void {
    this.entries.delete(key);
    this.bytes -= entry.bytes;
  }
}
