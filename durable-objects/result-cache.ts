/**
 * Results read lately, decoded, least recently used out first: a client paging through a large
 * result reads its object from the store once, not once a page. A result object is never
 * rewritten (its name carries the job and the attempt), so an entry cannot go stale; the caller
 * checks the job and its store before it looks here.
 */
import type { Table } from 'apache-arrow';

export class ResultCache {
  private readonly entries = new Map<string, { table: Table; bytes: number }>();
  private bytes = 0;

  /** `maxBytes` bounds the encoded sizes of the results held; a larger one is never held. */
  constructor(private readonly maxBytes = 64 * 1024 * 1024) {}

  get(key: string): Table | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.table;
  }

  set(key: string, table: Table, bytes: number): void {
    this.delete(key);
    if (bytes > this.maxBytes) return;
    this.entries.set(key, { table, bytes });
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
