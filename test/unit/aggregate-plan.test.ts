/** Aggregate planning: splits, partitions, attempt-keyed names and reduce inputs. */
import { describe, expect, it } from 'vitest';
import {
  finalOutputKey,
  internalFolder,
  inlineAllowance,
  mapOutputPrefix,
  partitionCount,
  planSplits,
  reduceInputs,
  reduceOutputKey,
  DEFAULT_SPLIT_BYTES,
  splitIdentity,
} from '../../durable-objects/aggregate-plan.ts';
import { MAX_INLINE_BYTES, type AggregateJobRequest } from '../../protocol/index.ts';

const object = (key: string, size: number, etag: string | null = null) => ({
  key,
  size,
  lastModified: null,
  etag,
});
const request = (over: Partial<AggregateJobRequest> = {}): AggregateJobRequest => ({
  kind: 'aggregate',
  source: { store: 's', format: 'parquet' },
  aggregates: [{ op: 'count' }],
  ...over,
});

describe('internalFolder', () => {
  it('names the first _tm/ folder after the base, at any depth, and nothing else', () => {
    expect(internalFolder('data/_tm/jobs/x/result.arrow')).toBe('data/_tm/');
    expect(internalFolder('_tm/jobs/x/result.arrow')).toBe('_tm/');
    expect(internalFolder('in/_tm/a/_tm/b', 'in/')).toBe('in/_tm/');
    expect(internalFolder('in/b/_tm/x', 'in/')).toBe('in/b/_tm/');
    for (const key of ['in/_tmx.parquet', 'in/x_tm/a', 'in/_tm', 'in/a.parquet'])
      expect(internalFolder(key, 'in/')).toBeNull();
    // Only what lies past the base counts: the listing's own prefix is the user's to choose.
    expect(internalFolder('_tm/in/a.parquet', '_tm/in/')).toBeNull();
    expect(internalFolder('other/_tm/x', 'in/')).toBeNull();
  });
});

describe('planSplits', () => {
  it('makes one split per object and skips folders and the scheduler’s own objects', () => {
    const splits = planSplits(
      [
        object('data/a.csv', 10),
        object('data/', 0),
        object('data/_tm/jobs/x/map/part-0.arrow', 5),
        object('data/b.csv', 0),
      ],
      'csv',
    );
    expect(splits).toEqual([
      { key: 'data/a.csv', size: 10 },
      { key: 'data/b.csv', size: 0 },
    ]);
  });

  it('splits large Parquet files into parts that cover them once, and never other formats', () => {
    const big = 2 * DEFAULT_SPLIT_BYTES + 1;
    const parts = planSplits([object('big.parquet', big)], 'parquet');
    expect(parts.map((s) => s.part)).toEqual([
      { index: 0, of: 3 },
      { index: 1, of: 3 },
      { index: 2, of: 3 },
    ]);
    expect(planSplits([object('big.arrow', big)], 'arrow')).toHaveLength(1);
    expect(planSplits([object('small.parquet', 100)], 'parquet')[0]?.part).toBeUndefined();
  });

  it('carries each object’s ETag into its splits, so agents read the planned version', () => {
    const big = 2 * DEFAULT_SPLIT_BYTES;
    const splits = planSplits(
      [object('big.parquet', big, 'e1'), object('x.parquet', 1)],
      'parquet',
    );
    expect(splits.map((s) => s.etag)).toEqual(['e1', 'e1', undefined]);
  });
});

describe('splitIdentity', () => {
  const split = { key: 'a.parquet', size: 10, etag: 'e1' };

  it('names a split by store, key, version, size and part', () => {
    const one = splitIdentity('store-1', split);
    expect(one).not.toBeNull();
    expect(splitIdentity('store-1', { ...split })).toBe(one);
    const others = [
      splitIdentity('store-2', split),
      splitIdentity('store-1', { ...split, key: 'b.parquet' }),
      splitIdentity('store-1', { ...split, etag: 'e2' }),
      splitIdentity('store-1', { ...split, size: 11 }),
      splitIdentity('store-1', { ...split, part: { index: 0, of: 2 } }),
      splitIdentity('store-1', { ...split, part: { index: 1, of: 2 } }),
    ];
    expect(new Set([one, ...others]).size).toBe(7);
  });

  it('has no identity without an ETag: an object that may change cannot be known cached', () => {
    expect(splitIdentity('store-1', { key: 'a.parquet', size: 10 })).toBeNull();
  });
});

describe('partitionCount', () => {
  it('uses the request’s count, one without grouping, else two per ready worker within 1..64', () => {
    expect(partitionCount(request({ partitions: 7, groupBy: ['k'] }), 3)).toBe(7);
    expect(partitionCount(request(), 3)).toBe(1);
    expect(partitionCount(request({ groupBy: ['k'] }), 3)).toBe(6);
    expect(partitionCount(request({ groupBy: ['k'] }), 0)).toBe(1);
    expect(partitionCount(request({ groupBy: ['k'] }), 100)).toBe(64);
  });
});

describe('object names and reduce inputs', () => {
  it('keys every output by attempt, so attempts never overwrite each other', () => {
    expect(mapOutputPrefix('b/', 't', 1)).not.toBe(mapOutputPrefix('b/', 't', 2));
    expect(reduceOutputKey('b/', 't3', 1)).toBe('b/reduce/t3/attempt-1.arrow');
    expect(finalOutputKey('b/', 'j1', 2)).toBe('b/result-j1.attempt-2.arrow');
  });

  it('gathers a partition’s partials from every committed map', () => {
    const maps = [
      {
        rowsRead: 1,
        rowsMatched: 1,
        bytesRead: 1,
        bytesCached: 0,
        partitions: [
          { index: 0, key: 'm1/p0', groups: 1 },
          { index: 2, key: 'm1/p2', groups: 1 },
        ],
      },
      {
        rowsRead: 1,
        rowsMatched: 1,
        bytesRead: 1,
        bytesCached: 0,
        partitions: [
          { index: 2, key: 'm2/p2', groups: 3 },
          { index: 1, inline: 'QUJD', groups: 1 },
        ],
      },
    ];
    expect(reduceInputs(maps, 2)).toEqual({ inputs: ['m1/p2', 'm2/p2'], inline: [] });
    expect(reduceInputs(maps, 1)).toEqual({ inputs: [], inline: ['QUJD'] });
    expect(reduceInputs(maps, 3)).toEqual({ inputs: [], inline: [] });
  });

  it('shares the inline allowance so one reduce or the final step never gets more than MAX_INLINE_BYTES', () => {
    expect(inlineAllowance(1, 1)).toEqual({ map: MAX_INLINE_BYTES, reduce: MAX_INLINE_BYTES });
    const { map, reduce } = inlineAllowance(10, 4);
    expect(map * 10).toBeLessThanOrEqual(MAX_INLINE_BYTES);
    expect(reduce * 4).toBeLessThanOrEqual(MAX_INLINE_BYTES);
    expect(map).toBeGreaterThan(MAX_INLINE_BYTES / 11);
    // Shares too small to hold a partial are not given at all.
    expect(inlineAllowance(100_000, 256)).toEqual({ map: 0, reduce: 0 });
  });
});
