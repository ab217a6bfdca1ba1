import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { timeOrderedId } from '../../durable-objects/ids.ts';

describe('timeOrderedId', () => {
  it('is a version 7 UUID whose first 48 bits are the millisecond', () => {
    const at = Date.UTC(2026, 11, 7, 12, 0, 0, 123);
    const id = timeOrderedId(at);
    expect(z.uuid().safeParse(id).success).toBe(true);
    expect(id[14]).toBe('7');
    expect('89ab').toContain(id[19]);
    expect(parseInt(id.replace(/-/g, '').slice(0, 12), 16)).toBe(at);
  });

  it('sorts as text in the order of creation, across milliseconds', () => {
    const ids = [0, 1, 255, 256, 65_536, 1_700_000_000_000, 2 ** 47].map((ms) => timeOrderedId(ms));
    expect([...ids].sort()).toEqual(ids);
  });

  it('differs within one millisecond', () => {
    const ids = new Set(Array.from({ length: 10_000 }, () => timeOrderedId(42)));
    expect(ids.size).toBe(10_000);
  });
});
