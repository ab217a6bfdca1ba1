/** The Scheduler's cache of decoded results: least recently used out first, bounded by bytes. */
import { describe, expect, it } from 'vitest';
import { tableFromArrays } from 'apache-arrow';
import { ResultCache } from '../../durable-objects/result-cache.ts';

const decoded = (n: number, bytes = 10) => ({
  table: tableFromArrays({ n: Int32Array.of(n) }),
  bytes,
});
const valueOf = (cache: ResultCache, key: string) => cache.get(key)?.getChild('n')?.get(0);

describe('ResultCache', () => {
  it('gives back what it holds, and nothing for what it never saw', () => {
    const cache = new ResultCache(100);
    const a = decoded(1);
    cache.set('a', a, 10);
    expect(cache.get('a')).toBe(a.table);
    expect(cache.get('b')).toBeUndefined();
  });

  it("forgets a removed job's results, and frees their bytes for others", () => {
    const cache = new ResultCache(100);
    cache.set('s/_tm/jobs/j1/result-j1.attempt-1.arrow', decoded(1, 50), 50);
    cache.set('s/_tm/jobs/j1/result-j1.attempt-2.arrow', decoded(2, 40), 40);
    cache.set('s/_tm/jobs/j2/result-j2.attempt-1.arrow', decoded(3, 10), 10);
    cache.forget('s/_tm/jobs/j1/result-j1.');
    expect(cache.get('s/_tm/jobs/j1/result-j1.attempt-1.arrow')).toBeUndefined();
    expect(cache.get('s/_tm/jobs/j1/result-j1.attempt-2.arrow')).toBeUndefined();
    cache.set('other', decoded(4, 90), 90);
    expect(valueOf(cache, 'other')).toBe(4);
    expect(valueOf(cache, 's/_tm/jobs/j2/result-j2.attempt-1.arrow')).toBe(3);
  });

  it('lets the least recently used go first once over its bytes', () => {
    const cache = new ResultCache(100);
    cache.set('a', decoded(1, 40), 40);
    cache.set('b', decoded(2, 40), 40);
    cache.get('a'); // now b is the least recently used
    cache.set('c', decoded(3, 40), 40);
    expect(cache.get('b')).toBeUndefined();
    expect(valueOf(cache, 'a')).toBe(1);
    expect(valueOf(cache, 'c')).toBe(3);
  });

  it('never holds a result larger than its bound, and counts a replaced entry once', () => {
    const cache = new ResultCache(100);
    cache.set('big', decoded(1, 101), 101);
    expect(cache.get('big')).toBeUndefined();
    cache.set('a', decoded(1, 60), 60);
    cache.set('a', decoded(2, 60), 60);
    cache.set('b', decoded(3, 40), 40);
    expect(valueOf(cache, 'a')).toBe(2);
    expect(valueOf(cache, 'b')).toBe(3);
  });
});

describe('ResultCache, lazily', () => {
  it('decodes a held result once, when first asked for', () => {
    const cache = new ResultCache(100);
    let decodes = 0;
    cache.set('a', () => (decodes++, decoded(7)), 10);
    expect(decodes).toBe(0);
    expect(valueOf(cache, 'a')).toBe(7);
    expect(valueOf(cache, 'a')).toBe(7);
    expect(decodes).toBe(1);
  });

  it('counts a decoded result at its decoded size, letting older ones go for it', () => {
    const cache = new ResultCache(100);
    cache.set('old', decoded(1, 50), 50);
    cache.set('small', () => decoded(2, 80), 20); // 20 bytes inline, 80 decoded
    expect(valueOf(cache, 'small')).toBe(2);
    expect(cache.get('old')).toBeUndefined();
    // One that decodes larger than the bound is not kept, but still answered.
    cache.set('huge', () => decoded(3, 500), 20);
    expect(valueOf(cache, 'huge')).toBe(3);
    expect(cache.get('huge')).toBeUndefined();
  });

  it('drops what fails to decode, so the caller reads the store instead', () => {
    const cache = new ResultCache(100);
    cache.set(
      'bad',
      () => {
        throw new Error('not Arrow');
      },
      60,
    );
    expect(cache.get('bad')).toBeUndefined();
    cache.set('b', decoded(1, 60), 60); // the dropped entry's bytes are free again
    expect(cache.get('b')).toBeDefined();
  });
});
