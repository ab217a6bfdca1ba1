/** A stream group is placed whole, spread round-robin, or not at all. */
import { describe, expect, it } from 'vitest';
import { placeGang } from '../../durable-objects/gang-placement.ts';

const w = (id: string, freeSlots: number, over = {}) => ({
  id,
  freeSlots,
  acceptsCommands: true,
  streams: true,
  ...over,
});

describe('placeGang', () => {
  it('spreads instances round-robin over workers with room', () => {
    const placed = placeGang([w('a', 2), w('b', 2), w('c', 2)], ['1', '2', '3', '4']);
    expect(placed.ok && placed.assignments.map((x) => x.workerId)).toEqual(['a', 'b', 'c', 'a']);
  });

  it('places nothing when the group does not fit at once, and says what is free', () => {
    expect(placeGang([w('a', 1), w('b', 1)], ['1', '2', '3'])).toEqual({ ok: false, free: 2 });
  });

  it('uses only workers that run commands and take records', () => {
    const placed = placeGang(
      [w('a', 5, { acceptsCommands: false }), w('b', 5, { streams: false }), w('c', 1)],
      ['1'],
    );
    expect(placed.ok && placed.assignments).toEqual([{ taskId: '1', workerId: 'c' }]);
    expect(placeGang([w('a', 5, { streams: false })], ['1'])).toEqual({ ok: false, free: 0 });
  });

  it('skips full workers while dealing', () => {
    const placed = placeGang([w('a', 1), w('b', 3)], ['1', '2', '3', '4']);
    expect(placed.ok && placed.assignments.map((x) => x.workerId)).toEqual(['a', 'b', 'b', 'b']);
  });
});
