/** getMany: objects in order, at most PARALLEL_GETS requests in flight, nothing new after a failure. */
import { describe, expect, it } from 'vitest';
import { getMany, PARALLEL_GETS } from '../../worker-agent/storage/get-many.ts';
import type { ObjectStore } from '../../worker-agent/storage/index.ts';

/** A store whose gets answer after a tick, counting what is in flight; `failing` keys reject. */
function countingStore(failing: ReadonlySet<string> = new Set()) {
  const seen = { inFlight: 0, most: 0, started: [] as string[] };
  const store = {
    async get(key: string): Promise<Uint8Array> {
      seen.started.push(key);
      seen.most = Math.max(seen.most, ++seen.inFlight);
      await new Promise((resolve) => setTimeout(resolve, 1 + (key.length % 3)));
      seen.inFlight--;
      if (failing.has(key)) throw new Error(`no ${key}`);
      return new TextEncoder().encode(key);
    },
  } as unknown as ObjectStore;
  return { store, seen };
}

describe('getMany', () => {
  it('returns every object in the order asked, with at most PARALLEL_GETS in flight', async () => {
    const keys = Array.from(
      { length: 3 * PARALLEL_GETS + 1 },
      (_, i) => `k${'x'.repeat(i % 5)}${i}`,
    );
    const { store, seen } = countingStore();
    const objects = await getMany(store, keys);
    expect(objects.map((bytes) => new TextDecoder().decode(bytes))).toEqual(keys);
    expect(seen.most).toBe(PARALLEL_GETS);
    expect(await getMany(store, [])).toEqual([]);
  });

  it('rejects with the first failure and starts no request after it', async () => {
    const keys = Array.from({ length: 10 * PARALLEL_GETS }, (_, i) => `k${i}`);
    const { store, seen } = countingStore(new Set(['k2']));
    await expect(getMany(store, keys)).rejects.toThrow('no k2');
    await new Promise((resolve) => setTimeout(resolve, 20));
    // The lanes running when k2 failed finish their request; none starts another.
    expect(seen.started.length).toBeLessThanOrEqual(2 * PARALLEL_GETS);
  });
});
