/** The Scheduler's cache of decoded results: least recently used out first, bounded by bytes. */
import { describe, expect, it } from 'vitest';
import { tableFromArrays } from 'apache-arrow';
import { ResultCache } from '../../durable-objects/result-cache.ts';

const table = (n: number) => tableFromArrays({ n: Int32Array.of(n) });

describe('ResultCache', () => {
  it('gives back what it holds, and nothing for what it never saw', () => {
    const cache = new ResultCache(100);
    const a = table(1);
    cache.set('a', a, 10);
    expect(cache.get('a')).toBe(a);
    expect(cache.get('b')).toBeUndefined();
  });

  it('lets the least recently used go first once over its bytes', () => {
    const cache = new ResultCache(100);
    cache.set('a', table(1), 40);
    cache.set('b', table(2), 40);
    cache.get('a'); // now b is the least recently used
    cache.set('c', table(3), 40);
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBeDefined();
    expect(cache.get('c')).toBeDefined();
  });

  it('never holds a result larger than its bound, and counts a replaced entry once', () => {
    const cache = new ResultCache(100);
    cache.set('big', table(1), 101);
    expect(cache.get('big')).toBeUndefined();
    cache.set('a', table(1), 60);
    cache.set('a', table(2), 60);
    cache.set('b', table(3), 40);
    expect(cache.get('a')?.getChild('n')?.get(0)).toBe(2);
    expect(cache.get('b')).toBeDefined();
  });
});

describe('ResultCache, lazily', () => {
  it('decodes a held result once, when first asked for', () => {
    const cache = new ResultCache(100);
    let decoded = 0;
    cache.set('a', () => (decoded++, table(7)), 10);
    expect(decoded).toBe(0);
    expect(cache.get('a')?.getChild('n')?.get(0)).toBe(7);
    expect(cache.get('a')?.getChild('n')?.get(0)).toBe(7);
    expect(decoded).toBe(1);
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
    cache.set('b', table(1), 60); // the dropped entry's bytes are free again
    expect(cache.get('b')).toBeDefined();
  });
});
