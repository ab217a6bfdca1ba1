/** What the agent's map tasks have read (worker-agent/read-totals.ts), as its /metrics counts it. */
import { describe, expect, it } from 'vitest';
import { ReadTotals } from '../../worker-agent/read-totals.ts';

const mapResult = (rowsRead: number, bytesRead: number, bytesCached: number) => ({
  ok: true as const,
  result: { rowsRead, rowsMatched: 0, bytesRead, bytesCached, partitions: [] },
});

describe('ReadTotals', () => {
  it('adds only what is new in each running report, store and cache apart', () => {
    const totals = new ReadTotals();
    totals.report('a#1', { rowsRead: 10, bytesRead: 100, bytesCached: 40 });
    totals.report('a#1', { rowsRead: 25, bytesRead: 300, bytesCached: 40 });
    totals.report('b#1', { rowsRead: 5, bytesRead: 50 });
    expect([totals.rows, totals.storeBytes, totals.cacheBytes]).toEqual([30, 310, 40]);
  });

  it('counts a map’s final figures from its result once, and forgets the task', () => {
    const totals = new ReadTotals();
    totals.report('a#1', { rowsRead: 10, bytesRead: 100, bytesCached: 0 });
    totals.end('a#1', 'aggregate-map', mapResult(40, 400, 100));
    expect([totals.rows, totals.storeBytes, totals.cacheBytes]).toEqual([40, 300, 100]);
    // A later attempt of the same task is its own count.
    totals.report('a#2', { rowsRead: 1, bytesRead: 10, bytesCached: 0 });
    expect(totals.rows).toBe(41);
  });

  it('keeps what a failed map read, and ignores other kinds’ results', () => {
    const totals = new ReadTotals();
    totals.report('a#1', { rowsRead: 7, bytesRead: 70, bytesCached: 0 });
    totals.end('a#1', 'aggregate-map', { ok: false, error: { type: 'internal', message: 'bad' } });
    totals.end('c#1', 'command', mapResult(99, 990, 0));
    expect([totals.rows, totals.storeBytes, totals.cacheBytes]).toEqual([7, 70, 0]);
  });
});
