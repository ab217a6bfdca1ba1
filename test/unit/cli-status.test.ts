/** `tm status` as text: byte and duration figures, and the storage section. */
import { describe, expect, it } from 'vitest';
import { formatBytes, formatSeconds, storageSection } from '../../cli/format/status.ts';
import type { StorageReport } from '../../protocol/index.ts';

describe('formatBytes', () => {
  it('uses the largest binary unit under 1024, one decimal past bytes', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1023)).toBe('1023 B');
    expect(formatBytes(249_856)).toBe('244.0 KiB');
    expect(formatBytes(1_785_856)).toBe('1.7 MiB');
    expect(formatBytes(10 * 1024 ** 3)).toBe('10.0 GiB');
  });
});

describe('formatSeconds', () => {
  it('names a whole number of the largest unit, else seconds', () => {
    expect(formatSeconds(604_800)).toBe('7 d');
    expect(formatSeconds(3600)).toBe('1 h');
    expect(formatSeconds(90)).toBe('90 s');
    expect(formatSeconds(120)).toBe('2 min');
  });
});

describe('storageSection', () => {
  const report: StorageReport = {
    databaseSizeBytes: 2048,
    tables: { jobs: 3, tasks: 12 },
    finishedJobs: 2,
    oldestFinishedJob: { id: 'job-1', finishedAt: '2026-12-07T06:00:00.000Z' },
    removal: { pendingJobs: 1, pendingObjectFolders: 0, tombstones: 5 },
    retention: { retentionSeconds: 604_800, maxFinishedJobs: 100_000, batchRows: 500 },
  };

  it('shows the size, the jobs kept, the retention and every table', () => {
    const text = storageSection(report, Infinity);
    expect(text).toMatch(/^storage\n/);
    expect(text).toMatch(/database +2\.0 KiB/);
    expect(text).toMatch(/finished jobs +2 kept, at most 100000/);
    expect(text).toMatch(/oldest kept +job-1, finished 2026-12-07T06:00:00.000Z/);
    expect(text).toMatch(/retention +7 d/);
    expect(text).toMatch(/removing +1 jobs, 0 result folders; 5 tombstones/);
    expect(text).toMatch(/^jobs +3$/m);
    expect(text).toMatch(/^tasks +12$/m);
  });

  it('says so when no finished job is kept', () => {
    expect(storageSection({ ...report, oldestFinishedJob: null }, Infinity)).toMatch(
      /oldest kept +-/,
    );
  });
});
