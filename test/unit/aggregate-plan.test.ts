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
  DEFAULT_MIN_PART_BYTES,
  DEFAULT_SPLIT_BYTES,
  fillSlots,
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

describe('planSplits with free slots', () => {
  const MiB = 1024 * 1024;

  it('cuts a single Parquet file into a part per free slot, each part named once', () => {
    const splits = planSplits([object('one.parquet', 48 * MiB, 'e1')], 'parquet', { slots: 4 });
    expect(splits).toEqual(
      [0, 1, 2, 3].map((index) => ({
        key: 'one.parquet',
        size: 48 * MiB,
        part: { index, of: 4 },
        etag: 'e1',
      })),
    );
    // The same files and slots give the same parts: a later job finds the split's last reader.
    const again = planSplits([object('one.parquet', 48 * MiB, 'e1')], 'parquet', { slots: 4 });
    expect(again.map((split) => splitIdentity('s', split))).toEqual(
      splits.map((split) => splitIdentity('s', split)),
    );
  });

  it('cuts no part under the floor, and leaves small files and other formats whole', () => {
    const floor = DEFAULT_MIN_PART_BYTES;
    expect(planSplits([object('a.parquet', 3 * floor - 1)], 'parquet', { slots: 8 })).toHaveLength(
      2,
    );
    const small = planSplits([object('s.parquet', 2 * floor - 1)], 'parquet', { slots: 8 });
    expect(small).toEqual([{ key: 's.parquet', size: 2 * floor - 1 }]);
    expect(planSplits([object('big.csv', 100 * floor)], 'csv', { slots: 8 })).toHaveLength(1);
    const custom = planSplits([object('a.parquet', 10 * MiB)], 'parquet', {
      slots: 8,
      minPartBytes: 2 * MiB,
    });
    expect(custom).toHaveLength(5);
  });

  it('never takes parts away: enough splits already, or no free slot, is today’s plan', () => {
    const files = [object('a.parquet', 40 * MiB), object('b.parquet', 40 * MiB)];
    expect(planSplits(files, 'parquet', { slots: 2 })).toEqual(planSplits(files, 'parquet'));
    expect(planSplits(files, 'parquet', { slots: 0 })).toEqual(planSplits(files, 'parquet'));
    const big = [object('big.parquet', 2 * DEFAULT_SPLIT_BYTES + 1)];
    expect(planSplits(big, 'parquet', { slots: 2 })).toHaveLength(3);
    expect(planSplits(big, 'parquet', { slots: 5 })).toHaveLength(5);
  });
});

describe('fillSlots', () => {
  it('gives each new part to the file whose parts are largest', () => {
    expect(fillSlots([100, 30, 10], [1, 1, 1], 6, 10)).toEqual([4, 1, 1]);
    expect(fillSlots([100, 60, 10], [1, 1, 1], 6, 10)).toEqual([3, 2, 1]);
    // Ties go to the first file.
    expect(fillSlots([40, 40], [1, 1], 3, 10)).toEqual([2, 1]);
  });

  it('stops at the slots or at the floor, whichever comes first, and never lowers a count', () => {
    expect(fillSlots([100], [1], 64, 10)).toEqual([10]);
    expect(fillSlots([100], [1], 3, 10)).toEqual([3]);
    expect(fillSlots([5, 5], [1, 1], 8, 10)).toEqual([1, 1]);
    expect(fillSlots([100], [7], 2, 10)).toEqual([7]);
    expect(fillSlots([], [], 4, 10)).toEqual([]);
    // The floor holds for every part, whatever the slots.
    for (let slots = 1; slots <= 40; slots++) {
      const sizes = [95, 33, 12, 7, 64];
      const parts = fillSlots(sizes, [1, 1, 1, 1, 1], slots, 10);
      parts.forEach((of, at) => expect(of === 1 || sizes[at]! / of >= 10).toBe(true));
      expect(parts.reduce((a, b) => a + b, 0)).toBe(Math.max(5, Math.min(slots, 20)));
    }
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
