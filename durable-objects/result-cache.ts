/**
 * Results read lately, decoded, least recently used out first: a client paging through a large
 * result reads its object from the store once, not once a page, and a small result handed back
 * inline by its final step is never read back at all. A result object is never rewritten (its
 * name carries the job and the attempt), so an entry cannot go stale; the caller checks the job
 * and its store before it looks here.
 */
import type { Table } from 'apache-arrow';

/** A table, or how to decode it when first asked for (most inline results are never fetched). */
type Source = Table | (() => Table);

export class ResultCache {
  private readonly entries = new Map<string, { source: Source; bytes: number }>();
  private bytes = 0;

  /** `maxBytes` bounds the encoded sizes of the results held; a larger one is never held. */
  constructor(private readonly maxBytes = 64 * 1024 * 1024) {}

  /** The table under `key`; undefined when not held, or when it fails to decode (then dropped). */
  get(key: string): Table | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    this.entries.delete(key);
    if (typeof entry.source === 'function') {
      try {
        entry.source = entry.source();
      } catch {
        this.bytes -= entry.bytes;
        return undefined;
      }
    }
    this.entries.set(key, entry);
    return entry.source;
  }

  set(key: string, source: Source, bytes: number): void {
    this.delete(key);
    if (bytes > this.maxBytes) return;
    this.entries.set(key, { source, bytes });
    this.bytes += bytes;
    for (const [oldest, entry] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.entries.delete(oldest);
      this.bytes -= entry.bytes;
    }
  }

  private delete(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    this.bytes -= entry.bytes;
  }
}
