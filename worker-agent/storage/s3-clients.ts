/**
 * S3 clients shared by the stores one agent thread opens: one per distinct store access, so a
 * task's requests reuse the connections (and the warmed SDK) of the tasks before it. On the
 * loopback S3 a fresh client's first PUT took 5–40 ms and a shared one's 3–4 ms: the final step's
 * PUT of the result is on every aggregation's critical path.
 */
import { createHash } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import type { StoreAccess } from '../../protocol/object-stores.ts';
import { createS3Client, type ClientTimeouts } from './s3-client.ts';

/** A client held by one store until it is closed. */
export interface ClientLease {
  readonly client: S3Client;
  release(): void;
}

interface Entry {
  client: S3Client;
  /** Stores holding it. */
  users: number;
  /** Pushed out of the pool: destroyed once its last store is closed. */
  evicted: boolean;
}

/** A client of its own for one store, destroyed when the store is closed. */
export function ownClient(access: StoreAccess, timeouts: ClientTimeouts): ClientLease {
  const client = createS3Client(access, timeouts);
  return { client, release: () => client.destroy() };
}

export class S3Clients {
  /** By a digest of the access (which holds the credentials); oldest use first. */
  private readonly entries = new Map<string, Entry>();

  constructor(
    readonly timeouts: ClientTimeouts,
    /** Clients kept; past this the least recently used one goes (once no store holds it). */
    private readonly most = 16,
  ) {}

  /** Clients in the pool. */
  get size(): number {
    return this.entries.size;
  }

  /** The shared client for `access`, held until the lease is released. */
  lease(access: StoreAccess): ClientLease {
    const key = createHash('sha256').update(JSON.stringify(access)).digest('hex');
    let entry = this.entries.get(key);
    if (entry) this.entries.delete(key);
    else entry = { client: createS3Client(access, this.timeouts), users: 0, evicted: false };
    this.entries.set(key, entry);
    entry.users++;
    this.evictPastMost();
    const held = entry;
    let released = false;
    return {
      client: held.client,
      release: () => {
        if (released) return;
        released = true;
        held.users--;
        if (held.evicted && held.users === 0) held.client.destroy();
      },
    };
  }

  /** Destroys every client no store holds, and the others as their stores are closed. */
  close(): void {
    for (const key of [...this.entries.keys()]) this.evict(key);
  }

  private evictPastMost(): void {
    for (const key of this.entries.keys()) {
      if (this.entries.size <= this.most) return;
      this.evict(key);
    }
  }

  private evict(key: string): void {
    const entry = this.entries.get(key)!;
    this.entries.delete(key);
    entry.evicted = true;
    if (entry.users === 0) entry.client.destroy();
  }
}
