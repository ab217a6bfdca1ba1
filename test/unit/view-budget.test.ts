/** Pages within a byte budget (view-budget.ts) and their opaque cursors (page-cursor.ts). */
import { describe, expect, it } from 'vitest';
import { budgetPage } from '../../durable-objects/view-budget.ts';
import { decodeCursor, encodeCursor, toBase64Url } from '../../protocol/index.ts';

/** Rows 0..n-1 read in key order, each a view of `size` bytes of JSON; counts the reads. */
function table(n: number, size: (i: number) => number) {
  const reads: number[] = [];
  const read = (after: number | null, count: number) => {
    reads.push(count);
    const from = after === null ? 0 : after + 1;
    return Array.from({ length: Math.max(0, Math.min(count, n - from)) }, (_, i) => from + i);
  };
  // A JSON string of `size(i)` bytes: its quotes and `size - 2` characters.
  const view = (i: number) => 'v'.repeat(size(i) - 2);
  return { read, view, reads };
}

describe('budgetPage', () => {
  it('fills a page up to its limit, reading in batches, and says whether rows follow', () => {
    const { read, view, reads } = table(25, () => 10);
    const page = budgetPage(read, view, { limit: 20, batch: 8 });
    expect(page.views).toHaveLength(20);
    expect(page).toMatchObject({ last: 19, more: true });
    expect(reads).toEqual([9, 9, 5]);
    const end = budgetPage(read, view, { limit: 25, batch: 8 });
    expect(end).toMatchObject({ last: 24, more: false });
  });

  it('stops before the view that would pass the budget, and always shows one', () => {
    const { read, view } = table(10, () => 40);
    const page = budgetPage(read, view, { limit: 10, batch: 4, budget: 100 });
    expect(page.views).toHaveLength(2);
    expect(page).toMatchObject({ last: 1, more: true });
    const large = table(3, () => 500);
    const huge = budgetPage(large.read, large.view, { limit: 10, batch: 4, budget: 100 });
    expect(huge.views).toHaveLength(1);
    expect(huge.more).toBe(true);
  });

  it('returns an empty last page with nothing to key on', () => {
    const { read, view } = table(0, () => 10);
    expect(budgetPage(read, view, { limit: 5, batch: 5 })).toEqual({
      views: [],
      last: null,
      more: false,
    });
  });
});

describe('page cursors', () => {
  it('round-trip their key, and are refused by another view or when malformed', () => {
    const id = crypto.randomUUID();
    const cursor = encodeCursor('jobs', [1_700_000_000_000, id]);
    expect(decodeCursor('jobs', cursor)).toEqual([1_700_000_000_000, id]);
    expect(decodeCursor('tasks', cursor)).toBeNull();
    expect(decodeCursor('job-tasks', encodeCursor('job-tasks', [41]))).toEqual([41]);
    const json = (value: unknown) => toBase64Url(new TextEncoder().encode(JSON.stringify(value)));
    for (const bad of [
      'not a cursor!',
      '',
      json(['tasks', -1]),
      json(['tasks', 1.5]),
      json(['tasks', 1, 2]),
      json(['jobs', 1, 'not-a-uuid']),
      json({ view: 'tasks' }),
      toBase64Url(new Uint8Array([0xff, 0xfe])),
    ])
      expect(decodeCursor('tasks', bad) ?? decodeCursor('jobs', bad)).toBeNull();
  });
});
